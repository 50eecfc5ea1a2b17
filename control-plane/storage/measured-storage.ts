import { Histogram, type Registry } from 'prom-client';
import { resourceOfKey } from './storage-key.ts';
import { StorageLayer } from './storage-layer.ts';
import type { KeyValue, ListOptions, ListResult, Storage } from './types.ts';

/** kube-apiserver's buckets for storage latency, in seconds. */
const BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** The resource a key or prefix is of, as the series name it: pods, deployments.apps; "unknown" off the registry. */
function typeOf(key: string): string {
  const of = resourceOfKey(key);
  if (!of?.resource) return 'unknown';
  return of.group ? `${of.resource}.${of.group}` : of.resource;
}

/**
 * A store that times each request to the backend below it (SQLite or etcd
 * alike) into etcd_request_duration_seconds{operation,type}, as
 * kube-apiserver names its storage latency. Watches are long-running and
 * not timed.
 */
export class MeasuredStorage extends StorageLayer {
  readonly #duration: Histogram<'operation' | 'type'>;

  constructor(inner: Storage, registry: Registry) {
    super(inner);
    this.#duration = new Histogram({
      name: 'etcd_request_duration_seconds',
      help: 'How long a request to the store took, by operation and resource.',
      labelNames: ['operation', 'type'],
      buckets: BUCKETS,
      registers: [registry],
    });
  }

  async #timed<T>(operation: string, key: string, request: () => Promise<T>): Promise<T> {
    const end = this.#duration.startTimer({ operation, type: typeOf(key) });
    try {
      return await request();
    } finally {
      end();
    }
  }

  override get(key: string): Promise<KeyValue | null> {
    return this.#timed('get', key, () => this.inner.get(key));
  }

  override list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    return this.#timed('list', prefix, () => this.inner.list(prefix, opts));
  }

  override create(key: string, value: string): Promise<KeyValue> {
    return this.#timed('create', key, () => this.inner.create(key, value));
  }

  override update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.#timed('update', key, () => this.inner.update(key, value, expectedRevision));
  }

  override delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.#timed('delete', key, () => this.inner.delete(key, expectedRevision));
  }
}
