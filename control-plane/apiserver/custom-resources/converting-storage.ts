import { StorageError, StorageLayer, type KeyValue, type ListOptions, type ListResult, type Storage, type StorageEvent } from '../../storage/index.ts';
import type { Obj } from '../resource-info.ts';
import type { ConversionWebhook } from './conversion-webhook.ts';

/**
 * One served version of a custom resource whose definition converts through
 * a webhook: the store's objects (in the storage version) as that version,
 * and its writes converted to the storage version before they are stored.
 * A registry over it sees only the served version. Conversion is a call
 * away, so its watch is asynchronous, as etcd's is; the store itself is
 * shared and stays open when this view is closed.
 */
export class ConvertingStorage extends StorageLayer {
  readonly #webhook: Pick<ConversionWebhook, 'convert'>;
  readonly #served: string;
  readonly #stored: string;

  constructor(inner: Storage, webhook: Pick<ConversionWebhook, 'convert'>, apiVersions: { served: string; stored: string }) {
    super(inner);
    this.#webhook = webhook;
    this.#served = apiVersions.served;
    this.#stored = apiVersions.stored;
  }

  async #convert(values: string[], apiVersion: string): Promise<string[]> {
    const objects = values.map((v) => JSON.parse(v) as Obj);
    return (await this.#webhook.convert(objects, apiVersion)).map((o) => JSON.stringify(o));
  }

  async #toServed<T extends KeyValue | null | undefined>(kv: T): Promise<T> {
    if (!kv) return kv;
    const [value] = await this.#convert([kv.value], this.#served);
    return { ...kv, value: value as string };
  }

  async #toStored(value: string): Promise<string> {
    return (await this.#convert([value], this.#stored))[0] as string;
  }

  override get watchIsSynchronous(): boolean {
    return false;
  }

  override async get(key: string): Promise<KeyValue | null> {
    return this.#toServed(await this.inner.get(key));
  }

  override async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    const page = await this.inner.list(prefix, opts);
    // one review for the whole page
    const values = await this.#convert(
      page.items.map((kv) => kv.value),
      this.#served,
    );
    return { ...page, items: page.items.map((kv, i) => ({ ...kv, value: values[i] as string })) };
  }

  override async create(key: string, value: string): Promise<KeyValue> {
    return this.#toServed(await this.inner.create(key, await this.#toStored(value)));
  }

  override async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.#toServed(await this.inner.update(key, await this.#toStored(value), expectedRevision));
  }

  override async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.#toServed(await this.inner.delete(key, expectedRevision));
  }

  /**
   * Events converted one after another, so they arrive in order; a conversion
   * that fails ends the watch (its watchers list again, and hear the error).
   */
  override async watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void, onEnded?: (err: StorageError) => void): Promise<() => void> {
    let chain = Promise.resolve();
    let stopped = false;
    // a conversion may fail before the inner watch has answered (while it replays history)
    let stopInner: (() => void) | undefined;
    stopInner = await this.inner.watch(
      prefix,
      fromRevision,
      (e) => {
        chain = chain
          .then(async () => {
            if (stopped) return;
            const [kv, prev] = await Promise.all([this.#toServed(e.kv), this.#toServed(e.prev)]);
            if (!stopped) onEvent({ ...e, kv, prev });
          })
          .catch((err: Error) => {
            if (stopped) return;
            stopped = true;
            stopInner?.();
            onEnded?.(new StorageError('Unavailable', err.message));
          });
      },
      (err) => {
        stopped = true;
        onEnded?.(err);
      },
    );
    if (stopped) stopInner();
    return () => {
      stopped = true;
      stopInner?.();
    };
  }

  /** the store is the server's: it stays open */
  override async close(): Promise<void> {}
}
