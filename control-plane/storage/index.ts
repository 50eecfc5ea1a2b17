export { SqliteStorage, prefixEnd } from './sqlite.ts';
export { StorageError } from './types.ts';
export type { Storage, KeyValue, StorageEvent, ListResult } from './types.ts';
export { EtcdStorage, etcdHosts } from './etcd.ts';
