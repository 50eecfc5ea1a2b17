import { backoffDelay, waitForWake } from '../../apimachinery/index.ts';

/** Back-off of a pod that failed to schedule: 1 s, doubling, at most 10 s (kube-scheduler's defaults). */
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 10_000;
/** How long a pod may wait as unschedulable before it is tried again anyway. */
const UNSCHEDULABLE_MAX_MS = 5 * 60_000;

interface Entry {
  key: string;
  priority: number;
  /** order of (re)entering the active queue: earlier goes first among equals */
  since: number;
}

const before = (a: Entry, b: Entry) => a.priority > b.priority || (a.priority === b.priority && a.since < b.since);

/**
 * kube-scheduler's three queues: active (a heap, highest priority first,
 * then oldest), back-off (pods that just failed, waiting 1–10 s), and
 * unschedulable (pods no node could take, moved back when the cluster
 * changes — a node added or changed, a pod deleted — or after five minutes).
 */
export class SchedulingQueue {
  #heap: Entry[] = [];
  #active = new Map<string, Entry>();
  #backoff = new Map<string, NodeJS.Timeout>();
  #unschedulable = new Map<string, { priority: number; since: number }>();
  #attempts = new Map<string, number>();
  /** when each pod first came to the queue (its placement's latency runs from then) */
  #firstQueued = new Map<string, number>();
  #waiters: (() => void)[] = [];
  /** set by moveAll() while a pod is being scheduled, so its failure goes to back-off rather than unschedulable */
  #movedDuringCycle = false;
  #flush: NodeJS.Timeout;
  #arrivals = 0;

  constructor() {
    this.#flush = setInterval(() => this.#flushUnschedulable(), 30_000);
    this.#flush.unref();
  }

  get size(): number {
    return this.#active.size + this.#backoff.size + this.#unschedulable.size;
  }

  /** A new or changed pod to schedule: active now, unless it is backing off. */
  add(key: string, priority: number): void {
    if (this.#active.has(key) || this.#backoff.has(key)) return;
    if (!this.#firstQueued.has(key)) this.#firstQueued.set(key, Date.now());
    this.#unschedulable.delete(key);
    this.#push({ key, priority, since: ++this.#arrivals });
  }

  /** Pods waiting in each part of the queue. */
  pending(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.#active.size, backoff: this.#backoff.size, unschedulable: this.#unschedulable.size };
  }

  delete(key: string): void {
    this.#active.delete(key);
    clearTimeout(this.#backoff.get(key));
    this.#backoff.delete(key);
    this.#unschedulable.delete(key);
    this.#attempts.delete(key);
    this.#firstQueued.delete(key);
  }

  /** The next pod to try, waiting while there is none; null once the signal aborts. */
  async pop(signal: AbortSignal): Promise<string | null> {
    for (;;) {
      while (this.#heap.length) {
        const top = this.#popHeap();
        if (this.#active.get(top.key) !== top) continue;
        this.#active.delete(top.key);
        this.#movedDuringCycle = false;
        return top.key;
      }
      if (signal.aborted) return null;
      await waitForWake(signal, (wake) => this.#waiters.push(wake));
    }
  }

  /** A pod no node could take: unschedulable until the cluster changes, or back-off if it already has. */
  unschedulable(key: string, priority: number): void {
    const n = (this.#attempts.get(key) ?? 0) + 1;
    this.#attempts.set(key, n);
    if (this.#movedDuringCycle) return this.#toBackoff(key, priority, n);
    this.#unschedulable.set(key, { priority, since: Date.now() });
  }

  /** A pod whose attempt failed for another reason (a failed binding): back-off. */
  retry(key: string, priority: number): void {
    const n = (this.#attempts.get(key) ?? 0) + 1;
    this.#attempts.set(key, n);
    this.#toBackoff(key, priority, n);
  }

  /** Scheduled: forget its attempts; answers how many it took and how long since it first came. */
  done(key: string): { attempts: number; queuedMs: number } {
    const attempts = (this.#attempts.get(key) ?? 0) + 1;
    const queuedMs = Date.now() - (this.#firstQueued.get(key) ?? Date.now());
    this.#attempts.delete(key);
    this.#firstQueued.delete(key);
    return { attempts, queuedMs };
  }

  /** The cluster changed in a way that may let waiting pods fit: retry the unschedulable ones. */
  moveAll(): void {
    this.#movedDuringCycle = true;
    for (const [key, { priority }] of this.#unschedulable) {
      this.#unschedulable.delete(key);
      this.#toBackoff(key, priority, this.#attempts.get(key) ?? 1);
    }
  }

  close(): void {
    clearInterval(this.#flush);
    for (const t of this.#backoff.values()) clearTimeout(t);
  }

  #toBackoff(key: string, priority: number, attempts: number): void {
    if (this.#backoff.has(key) || this.#active.has(key)) return;
    const delay = backoffDelay(attempts, { initialMs: INITIAL_BACKOFF_MS, maxMs: MAX_BACKOFF_MS });
    const t = setTimeout(() => {
      this.#backoff.delete(key);
      this.#push({ key, priority, since: ++this.#arrivals });
    }, delay);
    t.unref();
    this.#backoff.set(key, t);
  }

  #flushUnschedulable(): void {
    const now = Date.now();
    for (const [key, { priority, since }] of this.#unschedulable) {
      if (now - since < UNSCHEDULABLE_MAX_MS) continue;
      this.#unschedulable.delete(key);
      this.#push({ key, priority, since: ++this.#arrivals });
    }
  }

  #push(e: Entry): void {
    this.#active.set(e.key, e);
    const h = this.#heap;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Entry, h[parent] as Entry)) break;
      [h[i], h[parent]] = [h[parent] as Entry, h[i] as Entry];
      i = parent;
    }
    this.#waiters.shift()?.();
  }

  #popHeap(): Entry {
    const h = this.#heap;
    const top = h[0] as Entry;
    const last = h.pop() as Entry;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < h.length && before(h[l] as Entry, h[best] as Entry)) best = l;
        if (r < h.length && before(h[r] as Entry, h[best] as Entry)) best = r;
        if (best === i) break;
        [h[i], h[best]] = [h[best] as Entry, h[i] as Entry];
        i = best;
      }
    }
    return top;
  }
}
