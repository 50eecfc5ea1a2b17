import { backoffDelay } from '../../apimachinery/index.ts';

/**
 * Per-key exponential back-off, as the kubelet uses for crash loops and
 * image pulls: 10 s doubling to 5 min, forgotten after twice the maximum
 * without a failure. Time is passed in, so tests need no clock.
 */
export class Backoff {
  #initialMs: number;
  #maxMs: number;
  #entries = new Map<string, { attempts: number; lastUpdate: number }>();

  constructor(initialMs = 10_000, maxMs = 300_000) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
  }

  /** The current delay of `key`, 0 if it has none. */
  delay(key: string, now: number): number {
    const e = this.#entries.get(key);
    if (!e || now - e.lastUpdate > 2 * this.#maxMs) return 0;
    return this.#delayOf(e.attempts);
  }

  /** Is `key` still backing off from a failure at `since`? */
  inBackoffSince(key: string, since: number, now: number): boolean {
    const d = this.delay(key, now);
    return d > 0 && now - since < d;
  }

  /** Time left before `key` may be tried again, counting from its last failure (0 when free). */
  remaining(key: string, now: number): number {
    const e = this.#entries.get(key);
    if (!e) return 0;
    return Math.max(0, this.#delayOf(e.attempts) - (now - e.lastUpdate));
  }

  /** Records a failure: the next delay doubles (or starts at the initial one). */
  next(key: string, now: number): number {
    const attempts = this.delay(key, now) === 0 ? 1 : (this.#entries.get(key)?.attempts ?? 0) + 1;
    this.#entries.set(key, { attempts, lastUpdate: now });
    return this.#delayOf(attempts);
  }

  #delayOf(attempts: number): number {
    return backoffDelay(attempts, { initialMs: this.#initialMs, maxMs: this.#maxMs });
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every key starting with `prefix` (a pod's keys when it goes away). */
  forgetPrefix(prefix: string): void {
    for (const k of this.#entries.keys()) if (k.startsWith(prefix)) this.#entries.delete(k);
  }
}
