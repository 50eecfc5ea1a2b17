import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import {
  defineController,
  transitionTime,
  primary,
  requeueAfter,
  rfc3339,
  watch,
  type Informer,
  type ReconcileAction,
  type RunnableController,
} from '../../apimachinery/index.ts';
import { deleteExact, owned, type Controller, type ControllerContext } from './context.ts';
import { controllerKey, controllerRef, isControlledBy } from './controller-ref.ts';
import { nextNewReplicas, oldScaleDown, rollingBounds, type ReplicaSetCounts } from './deployment-rollout.ts';
import type { OwnerIndex } from './owner-index.ts';
import { DEPLOYMENTS, PODS, REPLICA_SETS } from './shared-informers.ts';
import { podTemplateHash } from './template-hash.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const HASH_LABEL = 'pod-template-hash';

const revisionOf = (rs: ReplicaSet) => Number(rs.metadata?.annotations?.[REVISION] ?? 0) || 0;
const specReplicas = (rs: ReplicaSet) => rs.spec?.replicas ?? 0;
const counts = (rs: ReplicaSet): ReplicaSetCounts => ({
  replicas: specReplicas(rs),
  available: rs.status?.availableReplicas ?? 0,
  created: rs.metadata?.creationTimestamp ?? '',
});

/**
 * Rolls Deployments out through ReplicaSets: one ReplicaSet per pod template
 * (named by its pod-template-hash), grown and shrunk within maxSurge and
 * maxUnavailable (or all old ones to zero first for Recreate), revisions in
 * annotations so `kubectl rollout history/undo` work, old ReplicaSets pruned
 * to revisionHistoryLimit, and status with Available and Progressing.
 */
export class DeploymentController implements Controller {
  readonly name = 'deployment';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #deployments: Informer<Deployment>;
  #sets: Informer<ReplicaSet>;
  #pods: Informer<Pod>;
  #setsByOwner: OwnerIndex<ReplicaSet>;
  #podsByOwner: OwnerIndex<Pod>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#deployments = ctx.informers.for<Deployment>(DEPLOYMENTS);
    this.#sets = ctx.informers.for<ReplicaSet>(REPLICA_SETS);
    this.#pods = ctx.informers.for<Pod>(PODS);
    this.#setsByOwner = ctx.informers.ownerIndex<ReplicaSet>(REPLICA_SETS);
    this.#podsByOwner = ctx.informers.ownerIndex<Pod>(PODS);
    // Recreate waits for the old pods to be gone, so their deletion matters
    const deploymentOfPod = (p: Pod) => {
      const rsKey = controllerKey(p, 'ReplicaSet');
      const rs = rsKey ? this.#sets.get(rsKey) : undefined;
      return rs ? controllerKey(rs, 'Deployment') : undefined;
    };
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      watches: [primary(this.#deployments, ['add', 'update']), owned(this.#sets, 'Deployment'), watch(this.#pods, deploymentOfPod, ['delete'])],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<ReconcileAction> {
    const d = this.#deployments.get(key);
    if (!d || d.metadata?.deletionTimestamp) return;
    const sets = this.#setsByOwner.dependents(d.metadata?.uid).filter((rs) => isControlledBy(rs, d));
    const hash = podTemplateHash(d.spec?.template, d.status?.collisionCount);
    let next = sets.find((rs) => rs.metadata?.labels?.[HASH_LABEL] === hash);
    const old = sets.filter((rs) => rs !== next);
    const desired = d.spec?.replicas ?? 1;
    let progressed = false;
    if (d.spec?.paused) return this.#syncStatus(d, next, old, false);

    const maxOldRevision = Math.max(0, ...old.map(revisionOf));
    if (!next) {
      next = await this.#createReplicaSet(d, hash, maxOldRevision + 1, this.#initialReplicas(d, old));
      progressed = true;
    } else if (revisionOf(next) <= maxOldRevision) {
      // an older template came back (rollout undo): it becomes the newest revision
      next = await this.#patchReplicaSet(next, { metadata: { annotations: { [REVISION]: String(maxOldRevision + 1) } } });
    }
    if (d.metadata?.annotations?.[REVISION] !== String(revisionOf(next))) {
      await this.#ctx.client.patch(
        { ...DEPLOYMENTS, version: 'v1', namespace: d.metadata?.namespace, name: d.metadata?.name },
        { metadata: { annotations: { [REVISION]: String(revisionOf(next)) } } },
        'merge',
      );
    }

    if (d.spec?.strategy?.type === 'Recreate') {
      const running = old.filter((rs) => specReplicas(rs) > 0);
      for (const rs of running) await this.#scale(d, rs, 0);
      const oldPodsLeft = old.some((rs) =>
        this.#podsByOwner.dependents(rs.metadata?.uid).some((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'),
      );
      if (running.length === 0 && !oldPodsLeft && specReplicas(next) !== desired) {
        await this.#scale(d, next, desired);
        progressed = true;
      }
      progressed ||= running.length > 0;
    } else {
      const { surge, unavailable } = rollingBounds(desired, d.spec?.strategy?.rollingUpdate?.maxSurge, d.spec?.strategy?.rollingUpdate?.maxUnavailable);
      const target = nextNewReplicas(desired, surge, counts(next), old.map(counts));
      if (target !== specReplicas(next)) {
        next = await this.#scale(d, next, target);
        progressed = true;
      } else {
        const cuts = oldScaleDown(desired, unavailable, counts(next), old.map(counts));
        for (const [i, cut] of cuts.entries()) {
          const rs = old[i] as ReplicaSet;
          if (cut > 0) old[i] = await this.#scale(d, rs, specReplicas(rs) - cut);
        }
        progressed = cuts.some((c) => c > 0);
      }
    }
    await this.#pruneHistory(d, old);
    return this.#syncStatus(d, next, old, progressed);
  }

  /** The size a new ReplicaSet starts at: none for Recreate, what the surge allows for a rolling update. */
  #initialReplicas(d: Deployment, old: ReplicaSet[]): number {
    const desired = d.spec?.replicas ?? 1;
    if (d.spec?.strategy?.type === 'Recreate') return old.some((rs) => specReplicas(rs) > 0) ? 0 : desired;
    const { surge } = rollingBounds(desired, d.spec?.strategy?.rollingUpdate?.maxSurge, d.spec?.strategy?.rollingUpdate?.maxUnavailable);
    return nextNewReplicas(desired, surge, { replicas: 0, available: 0, created: '' }, old.map(counts));
  }

  async #createReplicaSet(d: Deployment, hash: string, revision: number, replicas: number): Promise<ReplicaSet> {
    const template = structuredClone(d.spec?.template ?? {});
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [HASH_LABEL]: hash } };
    const selector = d.spec?.selector ?? {};
    const name = `${d.metadata?.name}-${hash}`;
    const rs = await this.#ctx.client.create<ReplicaSet>(
      { ...REPLICA_SETS, version: 'v1', namespace: d.metadata?.namespace },
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name,
          labels: template.metadata.labels,
          annotations: { [REVISION]: String(revision), ...this.#sizeAnnotations(d) },
          ownerReferences: [controllerRef(d, 'apps/v1', 'Deployment')],
        },
        spec: {
          replicas,
          minReadySeconds: d.spec?.minReadySeconds,
          selector: { ...selector, matchLabels: { ...selector.matchLabels, [HASH_LABEL]: hash } },
          template,
        },
      },
    );
    if (replicas > 0) this.#ctx.events.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
    return rs;
  }

  #sizeAnnotations(d: Deployment): Record<string, string> {
    const desired = d.spec?.replicas ?? 1;
    const surge =
      d.spec?.strategy?.type === 'Recreate'
        ? 0
        : rollingBounds(desired, d.spec?.strategy?.rollingUpdate?.maxSurge, d.spec?.strategy?.rollingUpdate?.maxUnavailable).surge;
    return { [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(desired + surge) };
  }

  #patchReplicaSet(rs: ReplicaSet, patch: object): Promise<ReplicaSet> {
    return this.#ctx.client.patch<ReplicaSet>({ ...REPLICA_SETS, version: 'v1', namespace: rs.metadata?.namespace, name: rs.metadata?.name }, patch, 'merge');
  }

  async #scale(d: Deployment, rs: ReplicaSet, replicas: number): Promise<ReplicaSet> {
    const from = specReplicas(rs);
    if (from === replicas) return rs;
    const scaled = await this.#patchReplicaSet(rs, { metadata: { annotations: this.#sizeAnnotations(d) }, spec: { replicas } });
    this.#ctx.events.event(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata?.name} from ${from} to ${replicas}`,
    );
    return scaled;
  }

  /** Deletes the oldest empty old ReplicaSets beyond revisionHistoryLimit. */
  async #pruneHistory(d: Deployment, old: ReplicaSet[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const empty = old
      .filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata?.deletionTimestamp)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of empty.slice(0, Math.max(empty.length - limit, 0)))
      await deleteExact(this.#ctx.client, { ...REPLICA_SETS, namespace: rs.metadata?.namespace }, rs);
  }

  /** Writes the Deployment's status; asks to look again when its progress deadline would pass. */
  async #syncStatus(d: Deployment, next: ReplicaSet | undefined, old: ReplicaSet[], progressed: boolean): Promise<ReconcileAction> {
    let again: ReconcileAction;
    const all = next ? [next, ...old] : old;
    const total = (f: (rs: ReplicaSet) => number) => all.reduce((n, rs) => n + f(rs), 0);
    const desired = d.spec?.replicas ?? 1;
    const available = total((rs) => rs.status?.availableReplicas ?? 0);
    const counts: DeploymentStatus = {
      observedGeneration: d.metadata?.generation,
      replicas: total((rs) => rs.status?.replicas ?? 0),
      updatedReplicas: next?.status?.replicas ?? 0,
      readyReplicas: total((rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(total(specReplicas) - available, 0),
    };
    const before = d.status ?? {};
    const countsChanged = (Object.keys(counts) as (keyof DeploymentStatus)[]).some((k) => (before[k] ?? 0) !== (counts[k] ?? 0));
    const now = rfc3339();
    const conditions = new Map((before.conditions ?? []).map((c) => [c.type, c]));
    const set = (c: Omit<DeploymentCondition, 'lastUpdateTime' | 'lastTransitionTime'>, touch: boolean) => {
      const prev = conditions.get(c.type);
      const same = prev?.status === c.status && prev.reason === c.reason && prev.message === c.message;
      conditions.set(c.type, {
        ...c,
        lastUpdateTime: same && !touch ? prev.lastUpdateTime : now,
        lastTransitionTime: transitionTime(prev, c.status, now),
      });
    };
    const maxUnavailable =
      d.spec?.strategy?.type === 'Recreate'
        ? 0
        : rollingBounds(desired, d.spec?.strategy?.rollingUpdate?.maxSurge, d.spec?.strategy?.rollingUpdate?.maxUnavailable).unavailable;
    set(
      available >= desired - maxUnavailable
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      false,
    );
    const rsName = next?.metadata?.name ?? '';
    const complete =
      (counts.updatedReplicas ?? 0) === desired &&
      counts.replicas === desired &&
      available >= desired &&
      (counts.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    const progressing = conditions.get('Progressing');
    const deadline = d.spec?.progressDeadlineSeconds ?? 600;
    if (d.spec?.paused) {
      set({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, false);
    } else if (complete) {
      set({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }, false);
    } else if (progressed || countsChanged || !progressing || progressing.reason === 'DeploymentPaused' || progressing.reason === 'NewReplicaSetAvailable') {
      set({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` }, true);
      again = requeueAfter(deadline * 1000 + 500);
    } else if (progressing.status === 'True' && Date.parse(progressing.lastUpdateTime ?? now) + deadline * 1000 <= Date.now()) {
      set({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` }, false);
      this.#ctx.events.event(d, 'Warning', 'ProgressDeadlineExceeded', `Deployment "${d.metadata?.name}" has timed out progressing.`);
    }
    const collision = before.collisionCount ? { collisionCount: before.collisionCount } : {};
    const status: DeploymentStatus = { ...withoutZeros(counts), conditions: [...conditions.values()], ...collision };
    if (JSON.stringify(status) === JSON.stringify({ ...withoutZeros(before), conditions: before.conditions ?? [], ...collision })) return again;
    await this.#ctx.client.update(
      { ...DEPLOYMENTS, version: 'v1', namespace: d.metadata?.namespace, name: d.metadata?.name, subresource: 'status' },
      { ...d, status },
    );
    return again;
  }
}

/** Counts as Kubernetes serialises them: zeros left out. */
function withoutZeros(s: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = {};
  for (const k of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) {
    if (s[k]) out[k] = s[k];
  }
  return out;
}
