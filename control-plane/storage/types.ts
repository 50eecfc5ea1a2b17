/** One stored version of a key. `value` is the object's JSON without resourceVersion. */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  /** the revision that wrote this version: the object's resourceVersion */
  modRevision: number;
}

export interface StorageEvent {
  type: 'put' | 'delete';
  /** for a delete: the last version, with modRevision set to the delete's revision */
  kv: KeyValue;
  /** true when this put created the key */
  created: boolean;
  /** the version before this event (absent on create) */
  prev?: KeyValue;
}

export interface ListOptions {
  limit?: number;
  startAfter?: string;
  revision?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** the store's revision the list reflects */
  revision: number;
  /** set when `limit` cut the list: the last key returned */
  more: boolean;
}

/**
 * Typed failures every backend reports the same way (and Unavailable, for a
 * view of the store that could not present what it read, which ends its
 * watches; NoSpace, for a store whose disk or quota is full: writes fail,
 * reads go on).
 */
export class StorageError extends Error {
  readonly code: 'KeyExists' | 'KeyNotFound' | 'Conflict' | 'Compacted' | 'FutureRevision' | 'Unavailable' | 'NoSpace';
  constructor(code: StorageError['code'], message: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
  }
}

export interface CompactionClaim {
  claimed: boolean;
  round: number;
  revision: number;
}

/**
 * The control plane's storage: an MVCC key-value log. Every write gets the
 * next revision; watches resume from any revision not yet compacted.
 */
export interface Storage {
  /**
   * Watchers hear of every write before the write returns (one process owns
   * the store), so a cache fed by a watch is as current as the store itself.
   */
  readonly watchIsSynchronous: boolean;
  get(key: string): Promise<KeyValue | null>;
  /**
   * Keys with the prefix, in key order, starting after `startAfter`: as they
   * are now, or as they were at `revision` (fails with Compacted before the
   * last compaction, FutureRevision past the newest revision).
   */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** fails with KeyExists */
  create(key: string, value: string): Promise<KeyValue>;
  /** fails with KeyNotFound, or Conflict when the key's modRevision is not `expectedRevision` */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /** fails with KeyNotFound, or Conflict when `expectedRevision` is given and differs */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;
  /**
   * Calls onEvent for every change under prefix after `fromRevision` (replaying
   * history first), until the returned function is called. Fails with
   * Compacted when the history is gone. A watch may also end by itself later
   * (on etcd: it lost its member, and the history it would resume from was
   * compacted meanwhile): then onEnded hears why, and no event follows.
   */
  watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void, onEnded?: (err: StorageError) => void): Promise<() => void>;
  currentRevision(): Promise<number>;
  /**
   * Where watches are asynchronous: the store's revision now if nothing under
   * `prefix` changed after `revision` (when it held `keys` keys), else
   * undefined. A watch cache that passes is as fresh as the store.
   */
  unchangedSince?(prefix: string, revision: number, keys: number): Promise<number | undefined>;
  /**
   * Forgets history before `revision`: what was current then stays readable.
   * Fails with Compacted when a compaction got there already, FutureRevision past the newest.
   */
  compact(revision: number): Promise<void>;
  /**
   * Servers sharing a store take turns to compact it: a server that has seen
   * `round` compaction rounds claims the next one, unless another claimed it
   * first (then it learns how many there were). Answers the rounds counted
   * now and the store's revision.
   */
  claimCompaction(round: number, revision: number): Promise<CompactionClaim>;
  close(): Promise<void>;
}

/** The first key after every key that starts with `prefix`. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * Where a range read under `prefix` starts after: `startAfter` when it lies
 * under the prefix, else nowhere (the prefix's start). A read is then bounded
 * on both sides by the prefix, whatever key a caller passes.
 */
export function startAfterWithin(prefix: string, startAfter: string | undefined): string | undefined {
  return startAfter?.startsWith(prefix) ? startAfter : undefined;
}
