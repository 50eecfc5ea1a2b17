import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  StorageError,
  prefixEnd,
  startAfterWithin,
  type CompactionClaim,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
} from './types.ts';

interface Row {
  revision: number;
  key: string;
  value: string;
  create_revision: number;
  prev_revision: number | null;
  deleted: number;
}

interface Watcher {
  prefix: string;
  onEvent: (e: StorageEvent) => void;
}

/** SQLite's "database or disk is full" (SQLITE_FULL) as the store's NoSpace; undefined for any other failure. */
function outOfSpace(err: unknown): StorageError | undefined {
  const message = (err as Error | undefined)?.message ?? '';
  if (!/database or disk is full|SQLITE_FULL/i.test(message)) return undefined;
  return new StorageError('NoSpace', 'the datastore is out of space (database or disk is full): writes resume once space is freed');
}

/** Revisions of the log a compaction goes through per step. */
const COMPACT_BATCH = 10_000;

/** Reads a range of keys as of a past revision from the log. */
function atRevision(startOp: '>=' | '>'): string {
  return `SELECT key, value, create_revision, revision FROM (
      SELECT key, value, create_revision, MAX(revision) AS revision, deleted FROM log
      WHERE key ${startOp} ?1 AND key < ?2 AND revision <= ?3 GROUP BY key)
    WHERE deleted = 0 ORDER BY key LIMIT ?4`;
}

/**
 * Embedded storage in one SQLite file: `log` holds every revision (the MVCC
 * history watches replay from), `kv` the current version of each key. Writes
 * are synchronous transactions, so revisions are gap-free and ordered.
 */
export class SqliteStorage implements Storage {
  readonly watchIsSynchronous = true;
  #db: DatabaseSync;
  #watchers = new Set<Watcher>();
  /** writes waiting for the next group commit */
  #batch: { fn: () => StorageEvent; resolve: (kv: KeyValue) => void; reject: (err: unknown) => void }[] = [];
  /** compaction rounds claimed since the store was opened */
  #compactionRounds = 0;
  #stmts: Record<string, StatementSync>;

  constructor(path: string) {
    // the store holds every Secret: the file, its WAL and shared memory are the server's alone
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      closeSync(openSync(path, 'a', 0o600));
    }
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS log (
        revision INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER,
        deleted INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS log_key ON log (key, revision);
      CREATE TABLE IF NOT EXISTS kv (
        key TEXT PRIMARY KEY,
        revision INTEGER NOT NULL,
        create_revision INTEGER NOT NULL,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta (name, value) VALUES ('compacted', 0);
    `);
    // files an older version left readable to all (SQLite makes the WAL and shared memory like the file)
    if (path !== ':memory:') for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    const db = this.#db;
    this.#stmts = {
      get: db.prepare('SELECT key, value, create_revision, revision FROM kv WHERE key = ?'),
      list: db.prepare('SELECT key, value, create_revision, revision FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
      listAfter: db.prepare('SELECT key, value, create_revision, revision FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?'),
      // each key's newest version at or before a revision, unless that version is its deletion
      listAt: db.prepare(atRevision('>=')),
      listAtAfter: db.prepare(atRevision('>')),
      insertLog: db.prepare('INSERT INTO log (revision, key, value, create_revision, prev_revision, deleted) VALUES (?, ?, ?, ?, ?, ?)'),
      upsertKv: db.prepare(
        'INSERT INTO kv (key, revision, create_revision, value) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET revision = excluded.revision, value = excluded.value',
      ),
      deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
      seq: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'log'"),
      history: db.prepare('SELECT * FROM log WHERE revision > ? AND key >= ? AND key < ? ORDER BY revision'),
      prevVersion: db.prepare('SELECT * FROM log WHERE revision = ?'),
      compacted: db.prepare("SELECT value FROM meta WHERE name = 'compacted'"),
      setCompacted: db.prepare("UPDATE meta SET value = ? WHERE name = 'compacted'"),
      // keeps each key's version current at the compaction revision, so reads there still work
      compact: db.prepare(`DELETE FROM log WHERE revision > ?2 AND revision <= ?3 AND (deleted = 1
        OR revision < (SELECT MAX(newer.revision) FROM log newer WHERE newer.key = log.key AND newer.revision <= ?1))`),
      oldest: db.prepare('SELECT MIN(revision) AS revision FROM log'),
    };
  }

  #stmt(name: string): StatementSync {
    return this.#stmts[name] as StatementSync;
  }

  #kv(row: { key: string; value: string; create_revision: number; revision: number } | undefined): KeyValue | null {
    return row ? { key: row.key, value: row.value, createRevision: row.create_revision, modRevision: row.revision } : null;
  }

  #current(key: string): KeyValue | null {
    return this.#kv(this.#stmt('get').get(key) as never);
  }

  #revisionNow(): number {
    const seq = this.#stmt('seq').get() as { seq: number } | undefined;
    return seq?.seq ?? 0;
  }

  async get(key: string): Promise<KeyValue | null> {
    return this.#current(key);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    const now = this.#revisionNow();
    const at = opts.revision === undefined || opts.revision === now ? undefined : opts.revision;
    if (at !== undefined) this.#checkReadable(at, now);
    const startAfter = startAfterWithin(prefix, opts.startAfter);
    const start = startAfter ?? prefix;
    const fetch = limit === -1 ? -1 : limit + 1;
    const rows =
      at === undefined
        ? this.#stmt(startAfter ? 'listAfter' : 'list').all(start, prefixEnd(prefix), fetch)
        : this.#stmt(startAfter ? 'listAtAfter' : 'listAt').all(start, prefixEnd(prefix), at, fetch);
    const items = rows.map((r) => this.#kv(r as never) as KeyValue);
    const more = limit !== -1 && items.length > limit;
    if (more) items.pop();
    return { items, revision: at ?? now, more };
  }

  #compacted(): number {
    return (this.#stmt('compacted').get() as { value: number }).value;
  }

  #checkReadable(revision: number, now: number): void {
    if (revision > now) throw new StorageError('FutureRevision', `required revision ${revision} is a future revision (newest is ${now})`);
    const compacted = this.#compacted();
    if (revision < compacted) throw new StorageError('Compacted', `required revision ${revision} has been compacted (oldest is ${compacted})`);
  }

  #write(key: string, value: string, createRevision: number, prev: KeyValue | null, deleted: boolean): KeyValue {
    const revision = this.#revisionNow() + 1;
    const create = createRevision === 0 ? revision : createRevision;
    this.#stmt('insertLog').run(revision, key, value, create, prev?.modRevision ?? null, deleted ? 1 : 0);
    if (deleted) this.#stmt('deleteKv').run(key);
    else this.#stmt('upsertKv').run(key, revision, create, value);
    return { key, value, createRevision: create, modRevision: revision };
  }

  /**
   * Runs a write in the next group commit: the writes asked for during one
   * turn of the event loop share one transaction (each in a savepoint of its
   * own, so one that fails leaves the others), which saves a commit per write
   * under concurrent clients. Each write's event reaches the watchers, and its
   * caller its result, once the commit is done, in revision order.
   */
  #txn(fn: () => StorageEvent): Promise<KeyValue> {
    return new Promise((resolve, reject) => {
      this.#batch.push({ fn, resolve, reject });
      if (this.#batch.length === 1) setImmediate(() => this.#commitBatch());
    });
  }

  #commitBatch(): void {
    const batch = this.#batch;
    this.#batch = [];
    const outcomes: ({ event: StorageEvent } | { err: unknown })[] = [];
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const write of batch) {
        this.#db.exec('SAVEPOINT write');
        try {
          outcomes.push({ event: write.fn() });
          this.#db.exec('RELEASE write');
        } catch (err) {
          // a full disk ends the whole transaction: the outer handler answers every write of it
          if (outOfSpace(err)) throw err;
          this.#db.exec('ROLLBACK TO write');
          this.#db.exec('RELEASE write');
          outcomes.push({ err });
        }
      }
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      for (const write of batch) write.reject(outOfSpace(err) ?? err);
      return;
    }
    for (const [i, write] of batch.entries()) {
      const outcome = outcomes[i] as { event: StorageEvent } | { err: unknown };
      if ('err' in outcome) {
        write.reject(outcome.err);
      } else {
        this.#notify(outcome.event);
        write.resolve(outcome.event.kv);
      }
    }
  }

  #notify(e: StorageEvent): void {
    for (const w of this.#watchers) if (e.kv.key.startsWith(w.prefix)) w.onEvent(e);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    return this.#txn(() => {
      if (this.#current(key)) throw new StorageError('KeyExists', `key ${key} exists`);
      return { type: 'put', kv: this.#write(key, value, 0, null, false), created: true };
    });
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.#txn(() => {
      const prev = this.#current(key);
      if (!prev) throw new StorageError('KeyNotFound', `key ${key} not found`);
      if (prev.modRevision !== expectedRevision) throw new StorageError('Conflict', `key ${key} is at revision ${prev.modRevision}, not ${expectedRevision}`);
      return { type: 'put', kv: this.#write(key, value, prev.createRevision, prev, false), created: false, prev };
    });
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.#txn(() => {
      const prev = this.#current(key);
      if (!prev) throw new StorageError('KeyNotFound', `key ${key} not found`);
      if (expectedRevision !== undefined && prev.modRevision !== expectedRevision) {
        throw new StorageError('Conflict', `key ${key} is at revision ${prev.modRevision}, not ${expectedRevision}`);
      }
      return { type: 'delete', kv: this.#write(key, prev.value, prev.createRevision, prev, true), created: false, prev };
    });
  }

  async watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void): Promise<() => void> {
    const compacted = this.#compacted();
    if (fromRevision > 0 && fromRevision < compacted) {
      throw new StorageError('Compacted', `required revision ${fromRevision} has been compacted (oldest is ${compacted})`);
    }
    if (fromRevision > 0) {
      // replay and subscribe in the same tick: no write can slip between them
      for (const row of this.#stmt('history').all(fromRevision, prefix, prefixEnd(prefix)) as unknown as Row[]) {
        onEvent(this.#eventOf(row));
      }
    }
    const w: Watcher = { prefix, onEvent };
    this.#watchers.add(w);
    return () => this.#watchers.delete(w);
  }

  #eventOf(row: Row): StorageEvent {
    const kv = { key: row.key, value: row.value, createRevision: row.create_revision, modRevision: row.revision };
    const prevRow = row.prev_revision ? (this.#stmt('prevVersion').get(row.prev_revision) as Row | undefined) : undefined;
    const prev = prevRow ? { key: prevRow.key, value: prevRow.value, createRevision: prevRow.create_revision, modRevision: prevRow.revision } : undefined;
    return { type: row.deleted ? 'delete' : 'put', kv, created: !row.deleted && row.create_revision === row.revision, prev };
  }

  async currentRevision(): Promise<number> {
    return this.#revisionNow();
  }

  async compact(revision: number): Promise<void> {
    const compacted = this.#compacted();
    if (revision <= compacted) throw new StorageError('Compacted', `revision ${revision} is already compacted`);
    if (revision > this.#revisionNow()) throw new StorageError('FutureRevision', `revision ${revision} is a future revision`);
    // reads before the revision are refused from now on; what they would see goes a batch at a time,
    // oldest first (so no deletion is dropped while an older version of its key is left), and the
    // server goes on serving between batches
    this.#stmt('setCompacted').run(revision);
    const oldest = (this.#stmt('oldest').get() as { revision: number | null }).revision ?? revision;
    for (let from = oldest - 1; from < revision; from += COMPACT_BATCH) {
      this.#stmt('compact').run(revision, from, Math.min(from + COMPACT_BATCH, revision));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** One server owns the file, so every claim it makes in turn succeeds. */
  async claimCompaction(round: number): Promise<CompactionClaim> {
    if (round !== this.#compactionRounds) return { claimed: false, round: this.#compactionRounds, revision: this.#revisionNow() };
    this.#compactionRounds += 1;
    return { claimed: true, round: this.#compactionRounds, revision: this.#revisionNow() };
  }

  /**
   * Moves the revision on to `revision` and marks all history before it
   * compacted (a store put back from a snapshot: every watch from before
   * is told to list again, and no revision a client saw is handed out twice).
   */
  restartAt(revision: number): void {
    this.#db.exec('BEGIN');
    this.#db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'log'").run(revision);
    this.#stmt('setCompacted').run(revision);
    this.#db.exec('COMMIT');
  }

  async close(): Promise<void> {
    // writes already asked for are committed, not dropped
    if (this.#batch.length) this.#commitBatch();
    this.#watchers.clear();
    this.#db.close();
  }
}
