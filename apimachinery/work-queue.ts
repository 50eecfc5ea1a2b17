import { backoffDelay } from './backoff.ts';
import { waitForWake } from './time.ts';
import type { QueueObserver } from './work-queue-metrics.ts';

/**
 * A keyed work queue: a key waiting is queued once however often it is
 * added; a key being processed is never processed twice at a time (an add
 * during processing re-queues it after); failures back off exponentially per
 * key, and success resets the back-off.
 */
export class WorkQueue {
  #queue: string[] = [];
  #queued = new Set<string>();
  #processing = new Set<string>();
  #dirty = new Set<string>();
  #failures = new Map<string, number>();
  #timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  #waiters: (() => void)[] = [];
  #baseDelayMs: number;
  #maxDelayMs: number;
  #observer: QueueObserver | undefined;
  /** when each queued key was queued (for the queue's wait metric) */
  #queuedAt = new Map<string, number>();

  constructor(opts: { baseDelayMs?: number; maxDelayMs?: number; observer?: QueueObserver } = {}) {
    this.#baseDelayMs = opts.baseDelayMs ?? 5;
    this.#maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.#observer = opts.observer;
  }

  add(key: string): void {
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    if (this.#observer) {
      this.#queuedAt.set(key, performance.now());
      this.#observer.added(this.#queue.length);
    }
    this.#waiters.shift()?.();
  }

  /** Queues the key after `ms`; a key already due sooner keeps its earlier time (a deadline is never pushed back). */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.add(key);
    const due = Date.now() + ms;
    const existing = this.#timers.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#timers.set(key, { timer, due });
  }

  /** Re-queues after this key's next back-off delay. */
  addRateLimited(key: string): void {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    this.#observer?.retried();
    this.addAfter(key, backoffDelay(n + 1, { initialMs: this.#baseDelayMs, maxMs: this.#maxDelayMs }));
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  get length(): number {
    return this.#queue.length;
  }

  async #next(signal: AbortSignal): Promise<string | null> {
    while (this.#queue.length === 0) {
      if (signal.aborted) return null;
      await waitForWake(signal, (wake) => this.#waiters.push(wake));
    }
    const key = this.#queue.shift() as string;
    this.#queued.delete(key);
    this.#processing.add(key);
    if (this.#observer) {
      this.#observer.started((performance.now() - (this.#queuedAt.get(key) ?? performance.now())) / 1000, this.#queue.length);
      this.#queuedAt.delete(key);
    }
    return key;
  }

  #done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Runs `workers` loops calling handle(key) until the signal aborts. */
  async run(workers: number, handle: (key: string) => Promise<void>, signal: AbortSignal): Promise<void> {
    const loop = async () => {
      for (;;) {
        const key = await this.#next(signal);
        if (key === null) return;
        const started = performance.now();
        try {
          await handle(key);
        } finally {
          this.#observer?.done((performance.now() - started) / 1000);
          this.#done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, loop));
    for (const t of this.#timers.values()) clearTimeout(t.timer);
  }
}
