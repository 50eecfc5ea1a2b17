import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  defineController,
  formatQuantity,
  matchesLabels,
  objectKey,
  parseLabelSelector,
  parseQuantity,
  requeueAfter,
  rfc3339,
  transitionTime,
  watch,
  type Informer,
  type ReconcileAction,
  type ResourceRef,
  type RunnableController,
} from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { LIMIT_MESSAGES, normalizeReplicas, type Limit, type Stamped } from './hpa-behavior.ts';
import { resourceReplicas, type ReplicaProposal, type ResourceTarget } from './hpa-replicas.ts';
import { HORIZONTAL_POD_AUTOSCALERS, PODS } from './shared-informers.ts';

// The horizontal pod autoscaler controller: every sync period each
// autoscaler reads its target's Scale, the resource metrics of the pods the
// Scale's selector picks (metrics.k8s.io, which the API server serves from
// the kubelets), proposes replicas per metric (the most wins), normalizes
// them (stabilization, rate, bounds) and sets the Scale, reporting what it
// saw in status and conditions, as kube-controller-manager's does.

/** kube-controller-manager's --horizontal-pod-autoscaler-sync-period default. */
export const DEFAULT_HPA_SYNC_PERIOD_MS = 15_000;

/** The scalable kinds, by apiVersion/kind. */
const SCALABLE: Record<string, Omit<ResourceRef, 'namespace' | 'name'>> = {
  'apps/v1/Deployment': { group: 'apps', version: 'v1', resource: 'deployments' },
  'apps/v1/ReplicaSet': { group: 'apps', version: 'v1', resource: 'replicasets' },
  'apps/v1/StatefulSet': { group: 'apps', version: 'v1', resource: 'statefulsets' },
  'v1/ReplicationController': { version: 'v1', resource: 'replicationcontrollers' },
};

interface Scale {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

interface PodMetricsList {
  items: { metadata: { name: string }; containers: { usage: Record<string, string> }[] }[];
}

/** A step of the sync that failed, as the condition and Event it is reported by. */
class AutoscalerError extends Error {
  readonly condition: 'AbleToScale' | 'ScalingActive';
  readonly reason: string;
  constructor(c: { condition: 'AbleToScale' | 'ScalingActive'; reason: string; message: string }) {
    super(c.message);
    this.condition = c.condition;
    this.reason = c.reason;
  }
}

const condition = (type: string, status: 'True' | 'False', reason: string, message: string): HorizontalPodAutoscalerCondition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: rfc3339(),
});

/** Conditions as they stand now, each keeping its transition time while its status holds. */
function mergeConditions(old: HorizontalPodAutoscalerCondition[] | undefined, next: HorizontalPodAutoscalerCondition[]): HorizontalPodAutoscalerCondition[] {
  const merged = (old ?? []).filter((c) => !next.some((n) => n.type === c.type));
  for (const n of next) {
    const before = old?.find((c) => c.type === n.type);
    merged.push({ ...n, lastTransitionTime: transitionTime(before, n.status, n.lastTransitionTime ?? rfc3339()) });
  }
  return merged;
}

export class HorizontalPodAutoscalerController implements Controller {
  readonly name = 'horizontalpodautoscaler';
  #ctx: ControllerContext;
  #syncPeriodMs: number;
  #now: () => number;
  #loop: RunnableController;
  #autoscalers: Informer<HorizontalPodAutoscaler>;
  #pods: Informer<Pod>;
  /** each autoscaler's recent recommendations, and its recent changes of scale (for stabilization and rate limits) */
  #recommendations = new Map<string, Stamped[]>();
  #scaleEvents = new Map<string, Stamped[]>();

  constructor(ctx: ControllerContext, o: { syncPeriodMs?: number; now?: () => number } = {}) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#syncPeriodMs = o.syncPeriodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS;
    this.#now = o.now ?? Date.now;
    this.#autoscalers = ctx.informers.for<HorizontalPodAutoscaler>(HORIZONTAL_POD_AUTOSCALERS);
    this.#pods = ctx.informers.for<Pod>(PODS);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      watches: [
        // a new autoscaler, or a changed spec, is looked at now; its own status writes wait for the period
        watch(this.#autoscalers, (h, old) => (!old || old.metadata?.generation !== h.metadata?.generation ? objectKey(h) : undefined), ['add', 'update']),
        watch(
          this.#autoscalers,
          (h) => {
            this.#recommendations.delete(objectKey(h));
            this.#scaleEvents.delete(objectKey(h));
            return undefined;
          },
          ['delete'],
        ),
      ],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<ReconcileAction> {
    const hpa = this.#autoscalers.get(key);
    if (!hpa?.spec) return undefined;
    const again = requeueAfter(this.#syncPeriodMs);
    const spec = hpa.spec;
    const ref = spec.scaleTargetRef;
    const namespace = hpa.metadata?.namespace;
    const target = SCALABLE[`${ref.apiVersion ?? ''}/${ref.kind}`];
    const scaleRef = target && { ...target, namespace, name: ref.name, subresource: 'scale' };
    try {
      if (!scaleRef) {
        const [group] = (ref.apiVersion ?? '').split('/');
        throw new AutoscalerError({
          condition: 'AbleToScale',
          reason: 'FailedGetScale',
          message: `the HPA controller was unable to get the target's current scale: no matches for kind "${ref.kind}" in group "${ref.apiVersion?.includes('/') ? group : ''}"`,
        });
      }
      const scale = await this.#ctx.client.get<Scale>(scaleRef).catch((err: Error) => {
        throw new AutoscalerError({
          condition: 'AbleToScale',
          reason: 'FailedGetScale',
          message: `the HPA controller was unable to get the target's current scale: ${err.message}`,
        });
      });
      const current = scale.spec?.replicas ?? 0;
      // a target scaled to zero is left alone (autoscaling is off for it)
      if (current === 0 && (spec.minReplicas ?? 1) > 0) {
        await this.#writeStatus(hpa, {
          current,
          desired: 0,
          metrics: hpa.status?.currentMetrics,
          conditions: [condition('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero')],
        });
        return again;
      }
      const { proposed, metrics, by } = await this.#propose(hpa, scale, current);
      const now = this.#now();
      const recommendations = (this.#recommendations.get(key) ?? []).filter((r) => r.at > now - 60 * 60_000);
      const events = (this.#scaleEvents.get(key) ?? []).filter((e) => e.at > now - 60 * 60_000);
      const { replicas, limit } = normalizeReplicas({
        current,
        proposed,
        min: spec.minReplicas ?? 1,
        max: spec.maxReplicas,
        behavior: spec.behavior,
        recommendations,
        events,
        now,
      });
      recommendations.push({ at: now, value: proposed });
      this.#recommendations.set(key, recommendations);
      let lastScaleTime = hpa.status?.lastScaleTime;
      let ableToScale = condition('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
      if (replicas !== current) {
        await this.#ctx.client.update(scaleRef, { ...scale, spec: { ...scale.spec, replicas } }).catch((err: Error) => {
          throw new AutoscalerError({
            condition: 'AbleToScale',
            reason: 'FailedUpdateScale',
            message: `the HPA controller was unable to update the target scale: ${err.message}`,
          });
        });
        events.push({ at: now, value: replicas - current });
        this.#scaleEvents.set(key, events);
        lastScaleTime = rfc3339();
        const reason = replicas > current ? `${by} above target` : 'All metrics below target';
        this.#ctx.events.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${replicas}; reason: ${reason}`);
        ableToScale = condition('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${replicas}`);
      }
      await this.#writeStatus(hpa, {
        current,
        desired: replicas,
        metrics,
        lastScaleTime,
        conditions: [
          ableToScale,
          condition('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${by}`),
          condition('ScalingLimited', limit === 'DesiredWithinRange' ? 'False' : 'True', limit, LIMIT_MESSAGES[limit as Limit]),
        ],
      });
    } catch (err) {
      if (!(err instanceof AutoscalerError)) throw err;
      this.#ctx.events.event(hpa, 'Warning', err.reason, err.message);
      await this.#writeStatus(hpa, {
        current: hpa.status?.currentReplicas ?? 0,
        desired: hpa.status?.desiredReplicas ?? 0,
        metrics: hpa.status?.currentMetrics,
        lastScaleTime: hpa.status?.lastScaleTime,
        conditions: [condition(err.condition, 'False', err.reason, err.message)],
      });
    }
    return again;
  }

  /** The replicas the metrics ask for (the most of them), what each reads now, and which one asked for most. */
  async #propose(hpa: HorizontalPodAutoscaler, scale: Scale, current: number): Promise<{ proposed: number; metrics: MetricStatus[]; by: string }> {
    const namespace = hpa.metadata?.namespace;
    let selector: ReturnType<typeof parseLabelSelector>;
    try {
      selector = parseLabelSelector(scale.status?.selector ?? '');
    } catch {
      throw new AutoscalerError({
        condition: 'ScalingActive',
        reason: 'InvalidSelector',
        message: `couldn't convert selector into a corresponding internal selector object: ${scale.status?.selector}`,
      });
    }
    if (!scale.status?.selector) throw new AutoscalerError({ condition: 'ScalingActive', reason: 'InvalidSelector', message: 'selector is required' });
    const pods = this.#pods.list().filter((p) => p.metadata?.namespace === namespace && matchesLabels(selector, p.metadata?.labels));
    let usage: Map<string, Record<string, number>> | undefined;
    const readUsage = async () => {
      const list = await this.#ctx.client.get<PodMetricsList>(
        { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', namespace },
        { labelSelector: scale.status?.selector },
      );
      return new Map(
        list.items.map((m) => {
          const sum: Record<string, number> = {};
          for (const c of m.containers) for (const [r, q] of Object.entries(c.usage)) sum[r] = (sum[r] ?? 0) + parseQuantity(q);
          return [m.metadata.name, sum];
        }),
      );
    };
    let best: { proposal: ReplicaProposal; by: string } | undefined;
    const metrics: MetricStatus[] = [];
    for (const m of hpa.spec?.metrics ?? []) {
      if (m.type !== 'Resource' || !m.resource) {
        throw new AutoscalerError({
          condition: 'ScalingActive',
          reason: 'InvalidMetricSourceType',
          message: `the HPA was unable to compute the replica count: ${m.type} metrics are not served by this cluster`,
        });
      }
      const resource = m.resource.name;
      const t = m.resource.target;
      const target: ResourceTarget = {
        resource,
        ...(t.type === 'Utilization' ? { averageUtilization: t.averageUtilization } : { averageValue: parseQuantity(String(t.averageValue ?? t.value ?? 0)) }),
      };
      let proposal: ReplicaProposal;
      try {
        usage ??= await readUsage();
        const byPod = new Map([...usage].flatMap(([pod, u]) => (u[resource] !== undefined ? [[pod, u[resource] as number]] : [])));
        proposal = resourceReplicas({ current, pods, usage: byPod, target });
      } catch (err) {
        throw new AutoscalerError({
          condition: 'ScalingActive',
          reason: 'FailedGetResourceMetric',
          message: `the HPA was unable to compute the replica count: failed to get ${resource} utilization: ${(err as Error).message}`,
        });
      }
      metrics.push({
        type: 'Resource',
        resource: {
          name: resource,
          current: {
            ...(proposal.utilization !== undefined ? { averageUtilization: proposal.utilization } : {}),
            averageValue: resource === 'cpu' ? `${Math.round(proposal.averageValue * 1000)}m` : formatQuantity(Math.round(proposal.averageValue), 'DecimalSI'),
          },
        },
      });
      const by = t.type === 'Utilization' ? `${resource} resource utilization (percentage of request)` : `${resource} resource`;
      if (!best || proposal.replicas > best.proposal.replicas) best = { proposal, by };
    }
    if (!best)
      throw new AutoscalerError({
        condition: 'ScalingActive',
        reason: 'FailedGetResourceMetric',
        message: 'the HPA was unable to compute the replica count: no metrics',
      });
    return { proposed: best.proposal.replicas, metrics, by: best.by };
  }

  async #writeStatus(
    hpa: HorizontalPodAutoscaler,
    s: { current: number; desired: number; metrics?: MetricStatus[]; lastScaleTime?: string; conditions: HorizontalPodAutoscalerCondition[] },
  ): Promise<void> {
    const status = {
      ...(s.current ? { currentReplicas: s.current } : {}),
      desiredReplicas: s.desired,
      ...(s.metrics?.length ? { currentMetrics: s.metrics } : {}),
      ...(s.lastScaleTime ? { lastScaleTime: s.lastScaleTime } : {}),
      ...(hpa.metadata?.generation ? { observedGeneration: hpa.metadata.generation } : {}),
      conditions: mergeConditions(hpa.status?.conditions, s.conditions),
    };
    // nothing new seen: no write (and no watch event for every watcher) each period
    if (JSON.stringify(status) === JSON.stringify(hpa.status)) return;
    await this.#ctx.client.update(
      { ...HORIZONTAL_POD_AUTOSCALERS, version: 'v2', namespace: hpa.metadata?.namespace, name: hpa.metadata?.name, subresource: 'status' },
      { ...hpa, status },
    );
  }
}
