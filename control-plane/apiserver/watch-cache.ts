import { StorageError, type KeyValue, type Storage, type StorageEvent } from '../storage/index.ts';
import type { Obj } from './resource-info.ts';
import { sharedJson } from './shared-json.ts';

// The watch cache of one resource: every object under its storage prefix,
// kept current by a storage watch, so LISTs are answered from memory. Objects
// are decoded (and re-encoded as the API serves them) on first read, and kept
// so until the next write to that key. Where the store's watch is synchronous
// (SQLite) the cache is as fresh as the store; on etcd it is as fresh as the
// last event it heard, and says so with its revision.

/** One object as the cache holds it. */
export class CachedObject {
  readonly key: string;
  /** the stored form until it is decoded: then let go, as the object says all it did */
  #kv: KeyValue | undefined;
  readonly #decode: (kv: KeyValue) => Obj;
  #obj: Obj | undefined;

  constructor(kv: KeyValue, decode: (kv: KeyValue) => Obj) {
    this.key = kv.key;
    this.#kv = kv;
    this.#decode = decode;
  }

  /** shared: not to be changed */
  get obj(): Obj {
    if (this.#obj === undefined) {
      this.#obj = this.#decode(this.#kv as KeyValue);
      this.#kv = undefined;
    }
    return this.#obj;
  }

  /** the object as a response carries it, resourceVersion included */
  get json(): string {
    return sharedJson(this.obj);
  }
}

const RESTART_DELAY_MS = 1000;
/** recent events kept for watches that start a little in the past (a client's resourceVersion) */
const EVENT_WINDOW = 1000;

interface Subscriber {
  prefix: string;
  /** events at or before this revision the watcher has already */
  from: number;
  onEvent: (e: StorageEvent) => void;
  onEnded?: (err: StorageError) => void;
}

export class WatchCache {
  readonly #prefix: string;
  readonly #storage: Storage;
  readonly #decode: (kv: KeyValue) => Obj;
  #entries = new Map<string, CachedObject>();
  /** keys in order, rebuilt after a key comes or goes */
  #sorted: string[] | undefined;
  /** the revision the entries reflect (on etcd; SQLite's is always the store's) */
  #revision = 0;
  /** the newest events, oldest first; every event after #windowStart is among them */
  #events: StorageEvent[] = [];
  #windowStart = 0;
  readonly #subscribers = new Set<Subscriber>();
  #stop: (() => void) | undefined;
  #stopped = false;
  #restart: NodeJS.Timeout | undefined;

  constructor(prefix: string, storage: Storage, decode: (kv: KeyValue) => Obj) {
    this.#prefix = prefix;
    this.#storage = storage;
    this.#decode = decode;
  }

  async start(): Promise<void> {
    const page = await this.#storage.list(this.#prefix);
    this.#entries = new Map(page.items.map((kv) => [kv.key, new CachedObject(kv, this.#decode)]));
    this.#sorted = undefined;
    this.#revision = page.revision;
    this.#events = [];
    this.#windowStart = page.revision;
    this.#stop = await this.#storage.watch(
      this.#prefix,
      page.revision,
      (e) => this.#apply(e),
      () => this.#startAgain(),
    );
  }

  #apply(e: StorageEvent): void {
    if (e.type === 'delete') {
      this.#entries.delete(e.kv.key);
      this.#sorted = undefined;
    } else {
      if (!this.#entries.has(e.kv.key)) this.#sorted = undefined;
      this.#entries.set(e.kv.key, new CachedObject(e.kv, this.#decode));
    }
    this.#revision = e.kv.modRevision;
    // only watches on an asynchronous store go through the cache (SQLite's replay from the store)
    if (!this.#storage.watchIsSynchronous) this.#events.push(e);
    if (this.#events.length > EVENT_WINDOW) this.#windowStart = (this.#events.shift() as StorageEvent).kv.modRevision;
    for (const s of this.#subscribers) if (e.kv.modRevision > s.from && e.kv.key.startsWith(s.prefix)) s.onEvent(e);
  }

  /**
   * Watches through the cache, as Storage.watch does: the events after
   * `fromRevision` from its window of recent ones, then each new one, every
   * watcher handed the same event. Undefined when the window does not reach
   * back that far (the caller watches storage instead).
   */
  watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void, onEnded?: (err: StorageError) => void): (() => void) | undefined {
    if (this.#stopped || fromRevision < this.#windowStart) return undefined;
    for (const e of this.#events) if (e.kv.modRevision > fromRevision && e.kv.key.startsWith(prefix)) onEvent(e);
    const s: Subscriber = { prefix, from: fromRevision, onEvent, onEnded };
    this.#subscribers.add(s);
    return () => this.#subscribers.delete(s);
  }

  /** Ends every watch through the cache: what it would miss while it lists again cannot be replayed. */
  #endWatches(why: string): void {
    const ended = [...this.#subscribers];
    this.#subscribers.clear();
    for (const s of ended) s.onEnded?.(new StorageError('Compacted', why));
  }

  /** After storage ended the watch: the entries stay as they were (and their revision with them) until a fresh list replaces them. */
  #startAgain(): void {
    this.#endWatches('the watch cache lost its storage watch');
    if (this.#stopped) return;
    this.#restart = setTimeout(() => void this.start().catch(() => this.#startAgain()), RESTART_DELAY_MS);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#restart);
    this.#stop?.();
    this.#endWatches('the watch cache stopped');
  }

  /** how many objects the cache holds */
  get size(): number {
    return this.#entries.size;
  }

  /** the revision of the last event the cache handed its watchers (on etcd) */
  get revision(): number {
    return this.#revision;
  }

  /**
   * Makes sure the cache holds the store's newest state (on etcd, by asking it
   * whether anything under the prefix changed since the cache's revision) and
   * moves the cache's revision up to the store's; false when it lags.
   */
  async catchUp(): Promise<boolean> {
    if (this.#storage.watchIsSynchronous) return true;
    const [revision, keys] = [this.#revision, this.#entries.size];
    const now = await this.#storage.unchangedSince?.(this.#prefix, revision, keys);
    // an event that came meanwhile leaves it to the next read
    if (now === undefined || this.#revision !== revision) return false;
    this.#revision = Math.max(this.#revision, now);
    return true;
  }

  /** The objects under `prefix` in key order, starting after `startAfter`, with the revision they reflect. */
  async list(prefix: string, startAfter?: string): Promise<{ objects: CachedObject[]; revision: number }> {
    const revision = this.#storage.watchIsSynchronous ? await this.#storage.currentRevision() : this.#revision;
    this.#sorted ??= [...this.#entries.keys()].sort();
    const keys = this.#sorted.filter((k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter));
    return { objects: keys.map((k) => this.#entries.get(k) as CachedObject), revision };
  }
}
