import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';

interface Owned {
  metadata?: { ownerReferences?: OwnerReference[] };
}

interface Owner {
  metadata?: { name?: string; uid?: string };
}

/** The owner reference marked controller, if any. */
export function controllerOf(obj: Owned): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** The work-queue key (`namespace/name`) of the object's controller when it is of this kind. */
export function controllerKey(obj: Owned & { metadata?: { namespace?: string } }, kind: string): string | undefined {
  const ref = controllerOf(obj);
  return ref?.kind === kind ? `${obj.metadata?.namespace}/${ref.name}` : undefined;
}

/** Is `owner` the controller of `obj`? */
export function isControlledBy(obj: Owned, owner: Owner): boolean {
  return controllerOf(obj)?.uid === owner.metadata?.uid;
}

/** The reference a controller writes on what it creates. */
export function controllerRef(owner: Owner, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** Neither finished nor being deleted: a pod that still counts as a replica. */
export function isPodActive(p: Pod): boolean {
  return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata?.deletionTimestamp;
}

export function isPodReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * Ready for at least minReadySeconds. When it is ready but not yet for long
 * enough, `recheckInMs` says when it will be.
 */
export function podAvailability(p: Pod, minReadySeconds: number, now = Date.now()): { available: boolean; recheckInMs?: number } {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : now;
  const at = since + minReadySeconds * 1000;
  return at <= now ? { available: true } : { available: false, recheckInMs: at - now };
}
