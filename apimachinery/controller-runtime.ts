import type { Informer, KubeObject } from './informer.ts';
import { objectKey } from './informer.ts';
import type { Logger } from './logging.ts';
import { ApiError } from './status.ts';
import { WorkQueue } from './work-queue.ts';
import type { WorkQueueMetrics } from './work-queue-metrics.ts';

/** What a reconcile asks for next: nothing (wait for a change), or another look after a while. */
export type ReconcileAction = { requeueAfterMs: number } | undefined;

/** Look again after `ms` (a deadline, a schedule, a back-off of the controller's own). */
export const requeueAfter = (ms: number): ReconcileAction => ({ requeueAfterMs: Math.max(0, ms) });

type Change = 'add' | 'update' | 'delete';

/** What queues a controller's work: an informer, and the keys its changes name. */
export interface WatchSpec {
  synced(): Promise<void>;
  attach(enqueue: (key: string) => void): void;
}

/** An informer whose changes (all, or those in `on`) queue the keys `keys` names (nothing: none). */
export function watch<T extends KubeObject>(
  informer: Informer<T>,
  keys: (obj: T, old?: T) => Iterable<string> | string | undefined | null | false,
  on: readonly Change[] = ['add', 'update', 'delete'],
): WatchSpec {
  return {
    synced: () => informer.hasSynced(),
    attach(enqueue) {
      const queue = (obj: T, old?: T) => {
        const found = keys(obj, old);
        if (!found) return;
        for (const key of typeof found === 'string' ? [found] : found) enqueue(key);
      };
      informer.addHandlers({
        ...(on.includes('add') ? { onAdd: (o: T) => queue(o) } : {}),
        ...(on.includes('update') ? { onUpdate: (old: T, o: T) => queue(o, old) } : {}),
        ...(on.includes('delete') ? { onDelete: (o: T) => queue(o) } : {}),
      });
    },
  };
}

/** The controller's own objects: each change queues the object's key. */
export function primary<T extends KubeObject>(informer: Informer<T>, on?: readonly Change[]): WatchSpec {
  return watch(informer, (o) => objectKey(o), on);
}

/** An informer the controller only reads from: waited for before the first reconcile, queues nothing. */
export function reads<T extends KubeObject>(informer: Informer<T>): WatchSpec {
  return { synced: () => informer.hasSynced(), attach: () => {} };
}

export interface ControllerDefinition {
  name: string;
  /** what queues work: the primary objects, what they own, what else they look at */
  watches: WatchSpec[];
  /** makes the world match one key; an ApiError 404 means the thing is gone (done), 409 a newer version is coming (again) */
  // biome-ignore lint/suspicious/noConfusingVoidType: a reconcile that has nothing to ask for may be a plain async function
  reconcile(key: string): Promise<ReconcileAction | void>;
  /** keys reconciled at once (each key one at a time) */
  workers?: number;
  /** per-key back-off after a failure; reset when the key reconciles */
  backoff?: { baseDelayMs: number; maxDelayMs: number };
  /** the process's work queue series; the queue is named by the controller */
  queueMetrics?: WorkQueueMetrics;
  log: Logger;
}

export interface RunnableController {
  readonly name: string;
  run(signal: AbortSignal): Promise<void>;
  /** queues a key by hand (a controller that looks at everything on a schedule) */
  enqueue(key: string): void;
}

/**
 * The one controller loop: informers → a de-duplicating keyed queue → at
 * most one reconcile per key at a time, after every informer has synced.
 * A reconcile that returns requeueAfter is looked at again then; one that
 * throws is retried with exponential back-off per key, reset on success;
 * a conflict is retried quietly, a vanished object needs nothing more.
 */
export function defineController(def: ControllerDefinition): RunnableController {
  const queue = new WorkQueue({ ...(def.backoff ?? { baseDelayMs: 5, maxDelayMs: 60_000 }), observer: def.queueMetrics?.forQueue(def.name) });
  const log = def.log;
  for (const w of def.watches) w.attach((key) => queue.add(key));
  return {
    name: def.name,
    enqueue: (key) => queue.add(key),
    async run(signal) {
      await Promise.all(def.watches.map((w) => w.synced()));
      await queue.run(
        def.workers ?? 1,
        async (key) => {
          try {
            const action = await def.reconcile(key);
            queue.forget(key);
            if (action) queue.addAfter(key, action.requeueAfterMs);
          } catch (err) {
            if (err instanceof ApiError && err.code === 404) return queue.forget(key);
            if (!(err instanceof ApiError && err.code === 409)) log.warn({ key, err: (err as Error).message }, 'sync failed');
            queue.addRateLimited(key);
          }
        },
        signal,
      );
    },
  };
}
