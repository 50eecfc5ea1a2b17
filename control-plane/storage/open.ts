import { SqliteStorage } from './sqlite.ts';
import type { Storage } from './types.ts';

/** The file a `sqlite:///path` datastore endpoint names; undefined for any other endpoint. */
export function sqlitePath(endpoint: string): string | undefined {
  return endpoint.startsWith('sqlite://') ? endpoint.slice('sqlite://'.length) : undefined;
}

/** Parses `etcd://host:port[,host:port…]` into client URLs. */
export function etcdHosts(endpoint: string): string[] {
  const list = endpoint.replace(/^etcd:\/\//, '');
  const hosts = list
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  if (hosts.length === 0) throw new Error(`no etcd members in ${endpoint}`);
  return hosts.map((h) => (/^https?:\/\//.test(h) ? h : `http://${h}`));
}

/**
 * The store a datastore endpoint names: `sqlite:///path` or
 * `etcd://host:port[,…]`. etcd's client (gRPC and all) is loaded only for
 * an etcd endpoint: a SQLite server is about 20 MiB smaller without it.
 */
export async function openStorage(endpoint: string): Promise<Storage> {
  const path = sqlitePath(endpoint);
  if (path) return new SqliteStorage(path);
  if (endpoint.startsWith('etcd://')) return new (await import('./etcd.ts')).EtcdStorage(etcdHosts(endpoint));
  throw new Error(`unsupported --datastore-endpoint ${endpoint}: use sqlite:///path/to/state.db or etcd://host:port[,host:port…]`);
}
