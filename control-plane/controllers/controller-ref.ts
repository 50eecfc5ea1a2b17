import type { LabelSelector as ObjectSelector, OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, fromObjectSelector, matchesLabels, objectKey, type LabelSelector, type Logger, type RestClient } from '../../apimachinery/index.ts';
import type { OwnerIndex } from './owner-index.ts';

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

/**
 * What a controller holds of the pods in its namespace, as client-go's
 * ControllerRefManager claims them: its own that its selector still matches,
 * plus orphans the selector matches (adopted: its controller reference
 * added); its own the selector no longer matches are released (the
 * reference removed). Owners being deleted adopt nothing. Each change is a
 * patch preconditioned on the pod's resourceVersion, so a pod that moved on
 * meanwhile is left for the next sync.
 */
export async function claimPods(o: {
  client: RestClient;
  owner: Owner & { metadata?: { namespace?: string; deletionTimestamp?: string } };
  ref: OwnerReference;
  selector: LabelSelector;
  podsByOwner: OwnerIndex<Pod>;
  log: Logger;
}): Promise<Pod[]> {
  const claimed: Pod[] = [];
  const candidates = [
    ...o.podsByOwner.dependents(o.owner.metadata?.uid).filter((p) => isControlledBy(p, o.owner)),
    ...o.podsByOwner.orphans(o.owner.metadata?.namespace),
  ];
  const patch = async (p: Pod, ownerReferences: OwnerReference[]) => {
    try {
      return await o.client.patch<Pod>(
        { resource: 'pods', namespace: p.metadata?.namespace, name: p.metadata?.name },
        { metadata: { ownerReferences, resourceVersion: p.metadata?.resourceVersion } },
        'merge',
      );
    } catch (err) {
      // gone or changed since it was read: the next sync looks at it again
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return undefined;
      throw err;
    }
  };
  // an empty selector would take every pod of the namespace: it claims only what the owner already controls
  const empty = o.selector.length === 0;
  for (const p of candidates) {
    const matches = empty ? isControlledBy(p, o.owner) : matchesLabels(o.selector, p.metadata?.labels);
    const refs = p.metadata?.ownerReferences ?? [];
    if (isControlledBy(p, o.owner)) {
      if (matches) claimed.push(p);
      else if (
        await patch(
          p,
          refs.filter((r) => r.uid !== o.owner.metadata?.uid),
        )
      )
        o.log.info({ pod: p.metadata?.name, owner: o.ref.name }, 'released a pod its selector no longer matches');
    } else if (matches && !controllerOf(p) && !p.metadata?.deletionTimestamp && !o.owner.metadata?.deletionTimestamp) {
      const adopted = await patch(p, [...refs, o.ref]);
      if (adopted) {
        claimed.push(adopted);
        o.log.info({ pod: p.metadata?.name, owner: o.ref.name }, 'adopted an orphan pod');
      }
    }
  }
  return claimed;
}

/** The work-queue keys of the owners in a pod's namespace whose selector matches it: the ones that would adopt it as an orphan. */
export function ownersSelecting<T extends { metadata?: { namespace?: string; name?: string }; spec?: { selector?: ObjectSelector } }>(
  owners: T[],
  pod: Pod,
  selectorOf: (owner: T) => ObjectSelector = (owner) => owner.spec?.selector ?? {},
): string[] {
  return owners
    .filter((owner) => owner.metadata?.namespace === pod.metadata?.namespace && matchesLabels(fromObjectSelector(selectorOf(owner)), pod.metadata?.labels))
    .map(objectKey);
}
