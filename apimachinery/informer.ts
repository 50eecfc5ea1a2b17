import type { Logger } from './logging.ts';
import { silentLogger } from './logging.ts';
import type { RestClient, WatchEvent, Query } from './rest-client.ts';
import type { ResourceRef } from './resource-path.ts';
import { backoffDelay } from './backoff.ts';
import { ApiError } from './status.ts';
import { sleep } from './time.ts';

/** How an informer waits between failed lists and watches. */
const RETRY = { initialMs: 100, maxMs: 10_000 };

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface KubeObject {
  metadata?: ObjectMeta;
}

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

/**
 * Drops metadata.managedFields, which no reader of an informer looks at and
 * which can be a third of an object's size (as controller-runtime's
 * TransformStripManagedFields does for its caches).
 */
function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata && 'managedFields' in obj.metadata) delete (obj.metadata as { managedFields?: unknown }).managedFields;
  return obj;
}

/**
 * list + watch into an in-memory store, resuming the watch from the last
 * resourceVersion and re-listing when the server answers 410 Gone. Handlers
 * run on every change; the store is the caller's read-only cache (no copies),
 * its objects without managedFields.
 */
export class Informer<T extends KubeObject> {
  readonly store = new Map<string, T>();
  #client: RestClient;
  #ref: ResourceRef;
  #query: Query;
  #handlers: InformerHandlers<T>[] = [];
  #log: Logger;
  #synced: Promise<void>;
  #markSynced!: () => void;
  #resourceVersion = '';
  #listed = false;

  constructor(client: RestClient, ref: ResourceRef, opts: { fieldSelector?: string; labelSelector?: string; log?: Logger } = {}) {
    this.#client = client;
    this.#ref = ref;
    this.#query = { fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector };
    this.#log = (opts.log ?? silentLogger).child({ informer: ref.resource });
    this.#synced = new Promise((resolve) => (this.#markSynced = resolve));
  }

  addHandlers(h: InformerHandlers<T>): void {
    this.#handlers.push(h);
  }

  /** Resolves once the first list is in the store. */
  hasSynced(): Promise<void> {
    return this.#synced;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  async run(signal: AbortSignal): Promise<void> {
    // failures in a row, so the retries back off until a list or a watch is taken again
    let failures = 0;
    const works = () => {
      if (failures > 0) this.#log.info({ failures }, 'list/watch works again');
      failures = 0;
    };
    while (!signal.aborted) {
      try {
        if (!this.#resourceVersion) {
          await this.#list();
          works();
        }
        await this.#client.watch<T>(
          this.#ref,
          { ...this.#query, resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 + Math.floor(Math.random() * 300) },
          (e) => this.#apply(e),
          { signal, onOpen: works },
        );
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && err.code === 410) {
          this.#log.info('watch expired, relisting');
          this.#resourceVersion = '';
          continue;
        }
        // said once; the retries that follow are only debug lines
        failures++;
        const level = failures === 1 ? 'warn' : 'debug';
        this.#log[level]({ err: (err as Error).message }, 'list/watch failed, retrying');
        await sleep(backoffDelay(failures, RETRY), signal);
      }
    }
  }

  async #list(): Promise<void> {
    // as client-go's reflector: the first list takes any state the server has at hand
    // (its watch cache), a relist after 410 the newest
    const resourceVersion = this.#listed ? undefined : '0';
    const list = await this.#client.get<{ items: T[]; metadata: { resourceVersion: string } }>(this.#ref, { ...this.#query, resourceVersion });
    this.#listed = true;
    const seen = new Set<string>();
    for (const item of list.items) {
      stripManagedFields(item);
      const key = objectKey(item);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, item);
      for (const h of this.#handlers) old ? h.onUpdate?.(old, item) : h.onAdd?.(item);
    }
    for (const [key, old] of this.store) {
      if (seen.has(key)) continue;
      this.store.delete(key);
      for (const h of this.#handlers) h.onDelete?.(old);
    }
    this.#resourceVersion = list.metadata.resourceVersion;
    this.#markSynced();
  }

  #apply(e: WatchEvent<T>): void {
    const rv = e.object.metadata?.resourceVersion;
    if (rv) this.#resourceVersion = rv;
    if (e.type === 'BOOKMARK') return;
    stripManagedFields(e.object);
    const key = objectKey(e.object);
    const old = this.store.get(key);
    if (e.type === 'DELETED') {
      this.store.delete(key);
      for (const h of this.#handlers) h.onDelete?.(e.object);
      return;
    }
    this.store.set(key, e.object);
    for (const h of this.#handlers) old ? h.onUpdate?.(old, e.object) : h.onAdd?.(e.object);
  }
}
