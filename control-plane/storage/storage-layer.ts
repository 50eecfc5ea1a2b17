import type { CompactionClaim, KeyValue, ListOptions, ListResult, Storage, StorageError, StorageEvent } from './types.ts';

/**
 * A store over another that passes every call down: layers (encryption at
 * rest, latency metrics, CRD conversion) extend it and override only the
 * calls they change.
 */
export class StorageLayer implements Storage {
  protected readonly inner: Storage;

  constructor(inner: Storage) {
    this.inner = inner;
  }

  get watchIsSynchronous(): boolean {
    return this.inner.watchIsSynchronous;
  }

  get(key: string): Promise<KeyValue | null> {
    return this.inner.get(key);
  }

  list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    return this.inner.list(prefix, opts);
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.inner.create(key, value);
  }

  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.inner.update(key, value, expectedRevision);
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.inner.delete(key, expectedRevision);
  }

  watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void, onEnded?: (err: StorageError) => void): Promise<() => void> {
    return this.inner.watch(prefix, fromRevision, onEvent, onEnded);
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }

  unchangedSince(prefix: string, revision: number, keys: number): Promise<number | undefined> {
    return this.inner.unchangedSince ? this.inner.unchangedSince(prefix, revision, keys) : Promise.resolve(undefined);
  }

  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }

  claimCompaction(round: number, revision: number): Promise<CompactionClaim> {
    return this.inner.claimCompaction(round, revision);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
