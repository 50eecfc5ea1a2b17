import {
  ApiError,
  watch,
  type EventRecorder,
  type Informer,
  type Logger,
  type ResourceRef,
  type RestClient,
  type WatchSpec,
  type WorkQueueMetrics,
} from '../../apimachinery/index.ts';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { controllerKey } from './controller-ref.ts';
import type { SharedInformers } from './shared-informers.ts';

/** What every controller is built from. */
export interface ControllerContext {
  client: RestClient;
  informers: SharedInformers;
  events: EventRecorder;
  /** the process's work queue series, if it keeps them */
  queueMetrics?: WorkQueueMetrics;
  log: Logger;
}

/** A control loop: informers feed a work queue, run() syncs keys until the signal aborts. */
export interface Controller {
  readonly name: string;
  run(signal: AbortSignal): Promise<void>;
}

/** What a controller of this kind owns: each change queues the owner its controller reference names. */
export function owned<T extends { metadata?: { namespace?: string; ownerReferences?: OwnerReference[] } }>(informer: Informer<T>, kind: string): WatchSpec {
  return watch(informer, (o) => controllerKey(o, kind));
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
