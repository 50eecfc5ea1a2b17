import type { Logger } from 'pino';
import { StorageError, type Storage } from './types.ts';

/**
 * Forgets history older than one interval, as kube-apiserver does with
 * --etcd-compaction-interval: each tick compacts to the revision the tick
 * before it saw, so a watch or continue token younger than one interval can
 * still resume, and the store stops growing with every write ever made.
 */
export class Compactor {
  readonly #storage: Storage;
  readonly #log: Logger;
  /** the revision the last tick saw: the next tick compacts to it */
  #seen: number | undefined;

  constructor(storage: Storage, log: Logger) {
    this.#storage = storage;
    this.#log = log;
  }

  /** Ticks every `intervalMs` until `signal` aborts. */
  start(intervalMs: number, signal: AbortSignal): void {
    const timer = setInterval(() => void this.tick(), intervalMs);
    timer.unref();
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  async tick(): Promise<void> {
    try {
      const now = await this.#storage.currentRevision();
      const to = this.#seen;
      this.#seen = now;
      if (to === undefined || to === 0) return;
      await this.#storage.compact(to);
      this.#log.debug({ revision: to }, 'compacted storage');
    } catch (err) {
      // another server sharing the etcd cluster may have compacted past us already
      if (err instanceof StorageError && err.code === 'Compacted') return;
      this.#log.warn({ err }, 'storage compaction failed');
    }
  }
}
