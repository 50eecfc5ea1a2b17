import type { KeyValue, Storage } from '../storage/index.ts';
import type { Obj } from './resource-info.ts';

// The watch cache of one resource: every object under its storage prefix,
// kept current by a storage watch, so LISTs are answered from memory. Objects
// are decoded (and re-encoded as the API serves them) on first read, and kept
// so until the next write to that key. It is only as fresh as the store when
// the store's watch is synchronous (SQLite); on etcd the registry reads storage.

/** One object as the cache holds it. */
export class CachedObject {
  readonly key: string;
  readonly #kv: KeyValue;
  readonly #decode: (kv: KeyValue) => Obj;
  #obj: Obj | undefined;
  #json: string | undefined;

  constructor(kv: KeyValue, decode: (kv: KeyValue) => Obj) {
    this.key = kv.key;
    this.#kv = kv;
    this.#decode = decode;
  }

  /** shared: not to be changed */
  get obj(): Obj {
    return (this.#obj ??= this.#decode(this.#kv));
  }

  /** the object as a response carries it, resourceVersion included */
  get json(): string {
    return (this.#json ??= JSON.stringify(this.obj));
  }
}

export class WatchCache {
  readonly #prefix: string;
  readonly #storage: Storage;
  readonly #decode: (kv: KeyValue) => Obj;
  #entries = new Map<string, CachedObject>();
  /** keys in order, rebuilt after a key comes or goes */
  #sorted: string[] | undefined;
  #stop: (() => void) | undefined;

  constructor(prefix: string, storage: Storage, decode: (kv: KeyValue) => Obj) {
    this.#prefix = prefix;
    this.#storage = storage;
    this.#decode = decode;
  }

  async start(): Promise<void> {
    const page = await this.#storage.list(this.#prefix);
    for (const kv of page.items) this.#entries.set(kv.key, new CachedObject(kv, this.#decode));
    this.#stop = await this.#storage.watch(this.#prefix, page.revision, (e) => {
      if (e.type === 'delete') {
        this.#entries.delete(e.kv.key);
        this.#sorted = undefined;
      } else {
        if (!this.#entries.has(e.kv.key)) this.#sorted = undefined;
        this.#entries.set(e.kv.key, new CachedObject(e.kv, this.#decode));
      }
    });
  }

  stop(): void {
    this.#stop?.();
  }

  /**
   * The objects under `prefix` in key order, starting after `startAfter`,
   * with the store's revision (which the synchronous watch has caught up with).
   */
  async list(prefix: string, startAfter?: string): Promise<{ objects: CachedObject[]; revision: number }> {
    const revision = await this.#storage.currentRevision();
    this.#sorted ??= [...this.#entries.keys()].sort();
    const keys = this.#sorted.filter((k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter));
    return { objects: keys.map((k) => this.#entries.get(k) as CachedObject), revision };
  }
}
