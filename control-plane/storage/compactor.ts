import type { Logger } from 'pino';
import { StorageError, type Storage } from './types.ts';

/**
 * Forgets history older than one interval, as kube-apiserver does with
 * --etcd-compaction-interval: each tick compacts to the revision the tick
 * before it saw, so a watch or continue token younger than one interval can
 * still resume, and the store stops growing with every write ever made.
 * Servers sharing one etcd take turns: a tick compacts only when it claims
 * the next round, so the cluster compacts once per interval, not once per server.
 */
export class Compactor {
  readonly #storage: Storage;
  readonly #log: Logger;
  /** the revision the last tick saw: the next tick compacts to it */
  #seen = 0;
  /** compaction rounds as of the last tick; -1 until one tick has looked */
  #round = -1;

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
      const to = this.#seen;
      const claim = await this.#storage.claimCompaction(this.#round, to);
      this.#round = claim.round;
      this.#seen = claim.revision;
      if (!claim.claimed || to === 0) return;
      await this.#storage.compact(to);
      this.#log.debug({ revision: to, round: claim.round }, 'compacted storage');
    } catch (err) {
      // a server with an older view may claim a round after a newer compaction
      if (err instanceof StorageError && err.code === 'Compacted') return;
      this.#log.warn({ err }, 'storage compaction failed');
    }
  }
}
