import {
  ApiError,
  type EventRecorder,
  type InformerHandlers,
  type Logger,
  type ResourceRef,
  type RestClient,
  type WorkQueue,
} from '../../apimachinery/index.ts';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { controllerKey } from './controller-ref.ts';
import type { SharedInformers } from './shared-informers.ts';

/** What every controller is built from. */
export interface ControllerContext {
  client: RestClient;
  informers: SharedInformers;
  events: EventRecorder;
  log: Logger;
}

/** A control loop: informers feed a work queue, run() syncs keys until the signal aborts. */
export interface Controller {
  readonly name: string;
  run(signal: AbortSignal): Promise<void>;
}

/**
 * Runs `workers` loops over a controller's queue: a key that syncs has its
 * back-off reset, one that fails is retried with back-off. Conflicts are
 * retried quietly (a newer version of the object is on its way), and an
 * object that vanished mid-sync needs nothing more.
 */
export function runSyncLoop(queue: WorkQueue, workers: number, sync: (key: string) => Promise<void>, log: Logger, signal: AbortSignal): Promise<void> {
  return queue.run(
    workers,
    async (key) => {
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) {
          queue.forget(key);
          return;
        }
        if (!(err instanceof ApiError && err.code === 409)) log.warn({ key, err: (err as Error).message }, 'sync failed');
        queue.addRateLimited(key);
      }
    },
    signal,
  );
}

/** Informer handlers that queue the controller (of this kind) of whatever is added, changed or deleted. */
export function queueControllerOf<T extends { metadata?: { namespace?: string; ownerReferences?: OwnerReference[] } }>(
  queue: WorkQueue,
  kind: string,
): InformerHandlers<T> {
  const add = (o: T) => {
    const key = controllerKey(o, kind);
    if (key) queue.add(key);
  };
  return { onAdd: add, onUpdate: (_old, o) => add(o), onDelete: add };
}

/**
 * Deletes this very object (its uid as precondition): resolves true when this
 * call deleted it, false when it was gone already or replaced by a namesake.
 */
export async function deleteExact(client: RestClient, ref: ResourceRef, obj: { metadata?: { name?: string; uid?: string } }): Promise<boolean> {
  try {
    await client.delete({ ...ref, name: obj.metadata?.name }, { preconditions: { uid: obj.metadata?.uid } });
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return false;
    throw err;
  }
}
