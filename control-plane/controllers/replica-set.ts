import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import {
  type ObjectLabelSelector,
  defineController,
  fromObjectSelector,
  objectKey,
  primary,
  requeueAfter,
  rfc3339,
  watch,
  type Informer,
  type ReconcileAction,
  type RunnableController,
} from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { claimPods, controllerKey, controllerOf, controllerRef, isPodActive, isPodReady, ownersSelecting, podAvailability } from './controller-ref.ts';
import { Expectations } from './expectations.ts';
import { createPodFromTemplate, deleteOwnedPod } from './pod-control.ts';
import type { OwnerIndex } from './owner-index.ts';
import { PODS, REPLICA_SETS, REPLICATION_CONTROLLERS, type ResourceType } from './shared-informers.ts';

/** Most pods created or deleted in one sync, as the kubelet's controller manager bounds a burst. */
const BURST = 500;

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Orders pods so that the cheapest to lose come first: unscheduled before
 * scheduled, pending before running, not ready before ready, ready for less
 * time before longer, more restarts before fewer, newer before older.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const assigned = (p: Pod) => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const phase = (p: Pod) => PHASE_RANK[p.status?.phase ?? 'Pending'] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: Pod) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  const readySince = (p: Pod) => Date.parse(p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '') || 0;
  if (ready(a) && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
  const restarts = (p: Pod) => (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  return Date.parse(b.metadata?.creationTimestamp ?? '') - Date.parse(a.metadata?.creationTimestamp ?? '');
}

/**
 * What a replica controller keeps: ReplicaSets (apps/v1), or
 * ReplicationControllers (v1), whose selector is a label map and whose
 * status has the same fields (as Kubernetes' replication manager, which runs
 * the ReplicaSet controller over them).
 */
export interface ReplicatedKind {
  /** the controller's name, its work queue's */
  name: string;
  kind: 'ReplicaSet' | 'ReplicationController';
  apiVersion: string;
  type: ResourceType;
  selector(set: ReplicaSet): ObjectLabelSelector;
}

export const REPLICA_SET_KIND: ReplicatedKind = {
  name: 'replicaset',
  kind: 'ReplicaSet',
  apiVersion: 'apps/v1',
  type: REPLICA_SETS,
  selector: (rs) => rs.spec?.selector ?? {},
};

export const REPLICATION_CONTROLLER_KIND: ReplicatedKind = {
  name: 'replicationmanager',
  kind: 'ReplicationController',
  apiVersion: 'v1',
  type: REPLICATION_CONTROLLERS,
  selector: (rc) => ({ matchLabels: (rc.spec?.selector ?? {}) as Record<string, string> }),
};

/**
 * Keeps each ReplicaSet's (or ReplicationController's) number of active pods
 * at spec.replicas: creates pods from the template (in doubling batches,
 * stopping at the first failure), deletes the cheapest surplus, and reports
 * replicas, ready and available counts in status.
 */
export class ReplicaSetController implements Controller {
  readonly name: string;
  readonly #of: ReplicatedKind;
  #ctx: ControllerContext;
  #loop: RunnableController;
  #expectations = new Expectations();
  #sets: Informer<ReplicaSet>;
  #pods: Informer<Pod>;
  #podsByOwner: OwnerIndex<Pod>;

  constructor(ctx: ControllerContext, of: ReplicatedKind = REPLICA_SET_KIND) {
    this.name = of.name;
    this.#of = of;
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#sets = ctx.informers.for<ReplicaSet>(of.type);
    this.#pods = ctx.informers.for<Pod>(PODS);
    this.#podsByOwner = ctx.informers.ownerIndex<Pod>(PODS);
    // a set that goes takes its expectations with it
    const setGone = (rs: ReplicaSet) => void this.#expectations.forget(objectKey(rs));
    // each pod change is noted against what its set expects, then queues the set (and a set it left)
    const podChanged = (p: Pod, old?: Pod) => {
      // an orphan queues the sets that would adopt it
      if (!controllerOf(p)) return ownersSelecting(this.#sets.list(), p, this.#of.selector);
      const key = this.#ownerKey(p);
      const oldKey = old && this.#ownerKey(old);
      if (key && !old && p.metadata?.deletionTimestamp) this.#expectations.deletionObserved(key);
      else if (key && !old) this.#expectations.creationObserved(key);
      else if (key && old && p.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) this.#expectations.deletionObserved(key);
      return [...(oldKey && oldKey !== key ? [oldKey] : []), ...(key ? [key] : [])];
    };
    const podGone = (p: Pod) => {
      const key = this.#ownerKey(p);
      if (key && !p.metadata?.deletionTimestamp) this.#expectations.deletionObserved(key);
      return key;
    };
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 4,
      watches: [
        primary(this.#sets, ['add', 'update']),
        watch(this.#sets, setGone, ['delete']),
        watch(this.#pods, podChanged, ['add', 'update']),
        watch(this.#pods, podGone, ['delete']),
      ],
      reconcile: (key) => this.sync(key),
    });
  }

  #ownerKey(p: Pod): string | undefined {
    return controllerKey(p, this.#of.kind);
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<ReconcileAction> {
    const rs = this.#sets.get(key);
    if (!rs) {
      this.#expectations.forget(key);
      return;
    }
    // its own pods and the orphans its selector matches (adopted), less the ones it no longer selects (released)
    const pods = await claimPods({
      client: this.#ctx.client,
      owner: rs,
      ref: controllerRef(rs, this.#of.apiVersion, this.#of.kind),
      selector: fromObjectSelector(this.#of.selector(rs)),
      podsByOwner: this.#podsByOwner,
      log: this.#ctx.log,
    });
    const active = pods.filter(isPodActive);
    let failure: string | undefined;
    if (this.#expectations.satisfied(key) && !rs.metadata?.deletionTimestamp) failure = await this.#manageReplicas(rs, key, active);
    return this.#updateStatus(rs, active, failure);
  }

  /** Creates or deletes pods towards spec.replicas; returns the create error, if any. */
  async #manageReplicas(rs: ReplicaSet, key: string, active: Pod[]): Promise<string | undefined> {
    const diff = active.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) {
      const want = Math.min(-diff, BURST);
      this.#expectations.expect(key, want, 0);
      let created = 0;
      let error: string | undefined;
      for (let batch = 1; created < want && !error; batch *= 2) {
        const size = Math.min(batch, want - created);
        const results = await Promise.allSettled(Array.from({ length: size }, () => this.#createPod(rs)));
        created += size;
        for (const r of results) {
          if (r.status === 'fulfilled') continue;
          this.#expectations.creationObserved(key);
          error ??= (r.reason as Error).message;
        }
      }
      for (let skipped = created; skipped < want; skipped++) this.#expectations.creationObserved(key);
      if (error) this.#ctx.events.event(rs, 'Warning', 'FailedCreate', `Error creating: ${error}`);
      return error;
    }
    if (diff > 0) {
      const victims = [...active].sort(deletionOrder).slice(0, Math.min(diff, BURST));
      this.#expectations.expect(key, 0, victims.length);
      await Promise.all(
        victims.map(async (p) => {
          if (!(await deleteOwnedPod(this.#ctx, rs, p))) this.#expectations.deletionObserved(key);
        }),
      );
    }
    return undefined;
  }

  async #createPod(rs: ReplicaSet): Promise<void> {
    await createPodFromTemplate(this.#ctx, rs, controllerRef(rs, this.#of.apiVersion, this.#of.kind), rs.spec?.template ?? {}, {
      generateName: `${rs.metadata?.name}-`,
    });
  }

  /** Writes the set's status; asks to look again when a pod not yet available for minReadySeconds will be. */
  async #updateStatus(rs: ReplicaSet, active: Pod[], failure: string | undefined): Promise<ReconcileAction> {
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const labels = Object.entries(rs.spec?.template?.metadata?.labels ?? {});
    let available = 0;
    let recheckInMs: number | undefined;
    for (const p of active) {
      const a = podAvailability(p, minReady);
      if (a.available) available++;
      else if (a.recheckInMs !== undefined) recheckInMs = Math.min(recheckInMs ?? Infinity, a.recheckInMs);
    }
    const again = recheckInMs !== undefined ? requeueAfter(recheckInMs + 100) : undefined;
    const old = rs.status ?? { replicas: 0 };
    const kept = (old.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
    const failureCondition: ReplicaSetCondition[] = failure
      ? [
          {
            type: 'ReplicaFailure',
            status: 'True',
            reason: 'FailedCreate',
            message: failure,
            lastTransitionTime: old.conditions?.find((c) => c.type === 'ReplicaFailure')?.lastTransitionTime ?? rfc3339(),
          },
        ]
      : [];
    const status: ReplicaSetStatus = withoutZeros({
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => labels.every(([k, v]) => p.metadata?.labels?.[k] === v)).length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: available,
      observedGeneration: rs.metadata?.generation,
      conditions: [...kept, ...failureCondition],
    });
    if (JSON.stringify(status) === JSON.stringify(withoutZeros({ ...old }))) return again;
    await this.#ctx.client.update(
      { ...this.#of.type, version: 'v1', namespace: rs.metadata?.namespace, name: rs.metadata?.name, subresource: 'status' },
      { ...rs, status },
    );
    return again;
  }
}

/** Status as Kubernetes serialises it: counts of zero and empty lists left out, replicas always there. */
function withoutZeros(s: ReplicaSetStatus): ReplicaSetStatus {
  const out: ReplicaSetStatus = { replicas: s.replicas ?? 0 };
  if (s.fullyLabeledReplicas) out.fullyLabeledReplicas = s.fullyLabeledReplicas;
  if (s.readyReplicas) out.readyReplicas = s.readyReplicas;
  if (s.availableReplicas) out.availableReplicas = s.availableReplicas;
  if (s.observedGeneration) out.observedGeneration = s.observedGeneration;
  if (s.conditions?.length) out.conditions = s.conditions;
  return out;
}
