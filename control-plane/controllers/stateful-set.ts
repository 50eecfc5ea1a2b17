import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, defineController, primary, reads, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import { owned, type Controller, type ControllerContext } from './context.ts';
import { controllerRef, isControlledBy, isPodReady, podAvailability } from './controller-ref.ts';
import { REVISION_HASH_LABEL, syncRevisions } from './controller-revisions.ts';
import { createPodFromTemplate, deleteOwnedPod } from './pod-control.ts';
import { PERSISTENT_VOLUME_CLAIMS, PODS, STATEFUL_SETS } from './shared-informers.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

/** `web-3` → 3 for a pod of StatefulSet `web`; -1 for anything else. */
export function ordinalOf(setName: string, podName: string): number {
  const m = /^(.*)-(\d+)$/.exec(podName);
  return m && m[1] === setName ? Number(m[2]) : -1;
}

const isRunningAndReady = (p: Pod) => p.status?.phase === 'Running' && isPodReady(p) && !p.metadata?.deletionTimestamp;

/**
 * Runs StatefulSets: pods with stable names `<set>-<ordinal>` and hostnames
 * under the governing Service, each with its own PersistentVolumeClaims from
 * volumeClaimTemplates (created first, kept when the pod goes); OrderedReady
 * creates in order, each once the ones before are Running and Ready, and
 * removes from the highest ordinal one at a time; Parallel does both at
 * once. Rolling updates replace pods from the highest ordinal down to the
 * partition, one at a time, each after the last is Ready again.
 */
export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #sets: Informer<StatefulSet>;
  #pods: Informer<Pod>;
  #claims: Informer<PersistentVolumeClaim>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#sets = ctx.informers.for<StatefulSet>(STATEFUL_SETS);
    this.#pods = ctx.informers.for<Pod>(PODS);
    this.#claims = ctx.informers.for<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      watches: [primary(this.#sets, ['add', 'update']), owned(this.#pods, 'StatefulSet'), reads(this.#claims)],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<void> {
    const set = this.#sets.get(key);
    if (!set || set.metadata?.deletionTimestamp) return;
    const name = set.metadata?.name ?? '';
    const replicas = set.spec?.replicas ?? 1;
    const parallel = set.spec?.podManagementPolicy === 'Parallel';
    const pods = this.#ctx.informers
      .ownerIndex<Pod>(PODS)
      .dependents(set.metadata?.uid)
      .filter((p) => isControlledBy(p, set));
    const byOrdinal = new Map(pods.map((p) => [ordinalOf(name, p.metadata?.name ?? ''), p]));
    const revision = await syncRevisions(this.#ctx, set, 'StatefulSet', new Set(pods.map((p) => p.metadata?.labels?.[REVISION_HASH_LABEL] ?? '')));
    const updateRevision = revision.name;

    // failed pods are replaced
    for (const p of pods) if (p.status?.phase === 'Failed' && !p.metadata?.deletionTimestamp) await deleteOwnedPod(this.#ctx, set, p);

    let blocked = false;
    for (let i = 0; i < replicas; i++) {
      const p = byOrdinal.get(i);
      if (!p) {
        if (blocked) break;
        await this.#createPod(set, i, updateRevision);
        if (!parallel) blocked = true;
        continue;
      }
      if (!parallel && !isRunningAndReady(p)) blocked = true;
    }

    // scale down: the highest ordinals beyond replicas go first
    const surplus = [...byOrdinal.entries()].filter(([i, p]) => (i >= replicas || i < 0) && !p.metadata?.deletionTimestamp).sort(([a], [b]) => b - a);
    const inOrderReady = [...byOrdinal.entries()].filter(([i]) => i < replicas).every(([, p]) => isRunningAndReady(p));
    if (surplus.length && (parallel || inOrderReady)) {
      for (const [, p] of parallel ? surplus : surplus.slice(0, 1)) await deleteOwnedPod(this.#ctx, set, p);
    }

    // rolling update from the highest ordinal down to the partition
    const strategy = set.spec?.updateStrategy;
    if ((strategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && !surplus.length) {
      const partition = strategy?.rollingUpdate?.partition ?? 0;
      const live = [...byOrdinal.entries()].filter(([i]) => i >= 0 && i < replicas).sort(([a], [b]) => b - a);
      const allReady = live.length === replicas && live.every(([, p]) => isRunningAndReady(p));
      const stale = live.find(([i, p]) => i >= partition && p.metadata?.labels?.[REVISION_HASH_LABEL] !== updateRevision && !p.metadata?.deletionTimestamp);
      if (stale && (allReady || parallel)) await deleteOwnedPod(this.#ctx, set, stale[1]);
    }
    await this.#updateStatus(set, pods, updateRevision);
  }

  async #createPod(set: StatefulSet, ordinal: number, revision: string): Promise<void> {
    const setName = set.metadata?.name ?? '';
    const podName = `${setName}-${ordinal}`;
    const template = structuredClone(set.spec?.template ?? {});
    const spec = template.spec ?? { containers: [] };
    const volumes = [...(spec.volumes ?? [])];
    for (const claim of set.spec?.volumeClaimTemplates ?? []) {
      const claimName = `${claim.metadata?.name}-${podName}`;
      await this.#ensureClaim(set, claim, claimName);
      const i = volumes.findIndex((v) => v.name === claim.metadata?.name);
      const volume = { name: claim.metadata?.name ?? '', persistentVolumeClaim: { claimName } };
      if (i >= 0) volumes[i] = volume;
      else volumes.push(volume);
    }
    spec.volumes = volumes.length ? volumes : undefined;
    spec.hostname = podName;
    if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
    template.spec = spec;
    try {
      await createPodFromTemplate(this.#ctx, set, controllerRef(set, 'apps/v1', 'StatefulSet'), template, {
        generateName: `${setName}-`,
        name: podName,
        labels: { [POD_NAME_LABEL]: podName, [POD_INDEX_LABEL]: String(ordinal), [REVISION_HASH_LABEL]: revision },
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }

  async #ensureClaim(set: StatefulSet, claim: PersistentVolumeClaim, claimName: string): Promise<void> {
    const namespace = set.metadata?.namespace;
    if (this.#claims.get(`${namespace}/${claimName}`)) return;
    try {
      await this.#ctx.client.create(
        { ...PERSISTENT_VOLUME_CLAIMS, namespace },
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: claimName, labels: { ...set.spec?.selector?.matchLabels, ...claim.metadata?.labels }, annotations: claim.metadata?.annotations },
          spec: claim.spec,
        },
      );
      this.#ctx.events.event(
        set,
        'Normal',
        'SuccessfulCreate',
        `create Claim ${claimName} Pod ${claimName.slice((claim.metadata?.name ?? '').length + 1)} in StatefulSet ${set.metadata?.name} success`,
      );
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }

  async #updateStatus(set: StatefulSet, pods: Pod[], updateRevision: string): Promise<void> {
    const replicas = set.spec?.replicas ?? 1;
    const live = pods.filter(
      (p) => !p.metadata?.deletionTimestamp && ordinalOf(set.metadata?.name ?? '', p.metadata?.name ?? '') >= 0 && p.status?.phase !== 'Failed',
    );
    const updated = live.filter((p) => p.metadata?.labels?.[REVISION_HASH_LABEL] === updateRevision).length;
    const complete = updated === replicas && live.length === replicas;
    const status: StatefulSetStatus = {
      observedGeneration: set.metadata?.generation,
      replicas: live.length,
      readyReplicas: live.filter(isPodReady).length,
      currentReplicas: complete ? updated : live.length - updated,
      updatedReplicas: updated,
      availableReplicas: live.filter((p) => podAvailability(p, set.spec?.minReadySeconds ?? 0).available).length,
      currentRevision: complete ? updateRevision : (set.status?.currentRevision ?? updateRevision),
      updateRevision,
      collisionCount: set.status?.collisionCount ?? 0,
    };
    const fields = Object.keys(status) as (keyof StatefulSetStatus)[];
    if (fields.every((k) => (set.status?.[k] ?? 0) === (status[k] ?? 0))) return;
    await this.#ctx.client.update(
      { ...STATEFUL_SETS, version: 'v1', namespace: set.metadata?.namespace, name: set.metadata?.name, subresource: 'status' },
      { ...set, status: { ...set.status, ...status } },
    );
  }
}
