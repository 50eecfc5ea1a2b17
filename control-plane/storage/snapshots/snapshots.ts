import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';
import { etcdHosts, sqlitePath } from '../open.ts';
import { SqliteStorage } from '../sqlite.ts';

// Snapshots of the datastore, as k3s's etcd-snapshot: SQLite copied through
// its online backup API (consistent while the server writes on), etcd
// through the Maintenance snapshot stream. A snapshot is one file named
// <name>-<host>-<unix seconds> in the snapshot directory; Secrets are in it
// as the store holds them (sealed, with encryption at rest).

/** The name scheduled snapshots take, and `skiff snapshot save` without --name. */
export const DEFAULT_SNAPSHOT_NAME = 'skiff-snapshot';

export interface SnapshotInfo {
  name: string;
  location: string;
  size: number;
  created: Date;
}

/** Where snapshots go when no directory is named: beside a SQLite store, else the server's data directory. */
export function defaultSnapshotDir(endpoint: string): string {
  const path = sqlitePath(endpoint);
  return path ? join(dirname(path), 'snapshots') : '/var/lib/skiff/server/snapshots';
}

/** The snapshot's file name: k3s's <name>-<node>-<timestamp>. */
function snapshotName(name: string, at: Date): string {
  return `${name}-${hostname()}-${Math.floor(at.getTime() / 1000)}`;
}

/** Writes a snapshot of the store at `endpoint` (sqlite://path or etcd://members) into `dir`. */
export async function saveSnapshot(o: { endpoint: string; dir: string; name: string; now?: Date }): Promise<SnapshotInfo> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.name)) throw new Error(`invalid snapshot name "${o.name}": lower case letters, digits and '-' only`);
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  const file = snapshotName(o.name, o.now ?? new Date());
  const location = join(o.dir, file);
  // written under a temporary name, so a snapshot that fails half-way is never listed
  const partial = `${location}.partial`;
  const sqlite = sqlitePath(o.endpoint);
  try {
    if (sqlite) await backupSqlite(sqlite, partial);
    else if (o.endpoint.startsWith('etcd://')) await snapshotEtcd(etcdHosts(o.endpoint), partial);
    else throw new Error(`unsupported --datastore-endpoint ${o.endpoint}`);
    await rename(partial, location);
  } finally {
    await rm(partial, { force: true });
  }
  const s = await stat(location);
  return { name: file, location, size: s.size, created: s.mtime };
}

async function backupSqlite(path: string, target: string): Promise<void> {
  // a second connection: the backup steps through the pages while the server keeps writing
  const source = new DatabaseSync(path, { readOnly: true });
  try {
    await backup(source, target);
  } finally {
    source.close();
  }
}

async function snapshotEtcd(hosts: string[], target: string): Promise<void> {
  // etcd's client only where an etcd store is snapshotted
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({ hosts, dialTimeout: 3000 });
  try {
    const stream = await client.maintenance.snapshot();
    const out = createWriteStream(target, { mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk) => out.write(chunk.blob));
      stream.on('error', reject);
      stream.on('end', () => out.end(resolve));
    });
  } finally {
    client.close();
  }
}

/** The snapshots in `dir`, newest first. */
export async function listSnapshots(dir: string): Promise<SnapshotInfo[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: SnapshotInfo[] = [];
  for (const name of names) {
    if (name.endsWith('.partial') || name.endsWith('-wal') || name.endsWith('-shm')) continue;
    const s = await stat(join(dir, name)).catch(() => undefined);
    if (s?.isFile()) out.push({ name, location: join(dir, name), size: s.size, created: s.mtime });
  }
  return out.sort((a, b) => b.created.getTime() - a.created.getTime() || b.name.localeCompare(a.name));
}

/** Deletes the named snapshots; fails naming those that are not there. */
export async function deleteSnapshots(dir: string, names: string[]): Promise<void> {
  const have = new Set((await listSnapshots(dir)).map((s) => s.name));
  const missing = names.filter((n) => !have.has(n));
  if (missing.length) throw new Error(`no such snapshot: ${missing.join(', ')}`);
  for (const n of names) await rm(join(dir, n));
}

/** Keeps the newest `retention` snapshots named `name` (k3s's --etcd-snapshot-retention); answers the ones it removed. */
export async function pruneSnapshots(dir: string, name: string, retention: number): Promise<string[]> {
  const mine = (await listSnapshots(dir)).filter((s) => s.name.startsWith(`${name}-${hostname()}-`));
  const old = mine.slice(Math.max(0, retention)).map((s) => s.name);
  for (const n of old) await rm(join(dir, n), { force: true });
  return old;
}

/**
 * Puts a SQLite snapshot in place of the store at `path` (the server is
 * stopped). Its revision is moved past any the old store reached and all
 * history before it is marked compacted, so every client still watching
 * from before gets 410 Gone and lists again: agents then stop the pods the
 * snapshot does not have and keep the ones it has, untouched.
 */
export async function restoreSqliteSnapshot(o: { snapshot: string; path: string }): Promise<{ revision: number }> {
  checkSnapshot(o.snapshot);
  // the old store's revision, if it can still be read: nobody can have watched past the bump below otherwise
  const old = await revisionOf(o.path).catch(() => 0);
  await mkdir(dirname(o.path), { recursive: true, mode: 0o700 });
  const staged = `${o.path}.restoring`;
  await copyFile(o.snapshot, staged);
  const store = new SqliteStorage(staged);
  let revision: number;
  try {
    // past anything the old store handed out; without it, a good margin
    revision = Math.max(await store.currentRevision(), old) + (old ? 1000 : 1_000_000);
    store.restartAt(revision);
  } finally {
    await store.close();
  }
  for (const f of [`${o.path}-wal`, `${o.path}-shm`, `${staged}-wal`, `${staged}-shm`]) await rm(f, { force: true });
  await rename(staged, o.path);
  return { revision };
}

/** Refuses a snapshot that is damaged or no skiff store (opened read-only: nothing is made in it). */
function checkSnapshot(snapshot: string): void {
  const db = new DatabaseSync(snapshot, { readOnly: true });
  try {
    const ok = (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    if (ok !== 'ok') throw new Error(`${snapshot} is damaged: ${ok}`);
    if (!db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'kv'").get()) throw new Error(`${snapshot} is not a skiff SQLite snapshot`);
  } catch (err) {
    if (err instanceof Error && /file is not a database/.test(err.message)) throw new Error(`${snapshot} is not a skiff SQLite snapshot`);
    throw err;
  } finally {
    db.close();
  }
}

async function revisionOf(path: string): Promise<number> {
  await stat(path);
  const store = new SqliteStorage(path);
  try {
    return await store.currentRevision();
  } finally {
    await store.close();
  }
}
