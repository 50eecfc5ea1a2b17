import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import {
  defineController,
  transitionTime,
  fromObjectSelector,
  matchesLabels,
  objectKey,
  primary,
  rfc3339,
  watch,
  type Informer,
  type RunnableController,
} from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { isPodReady } from './controller-ref.ts';
import { scaledValue } from './deployment-rollout.ts';
import { PODS, POD_DISRUPTION_BUDGETS } from './shared-informers.ts';

/** An eviction the API granted but whose pod has not gone yet is forgotten after this long (kube: 2 minutes). */
const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

/** The counts a budget's status carries, from the pods it selects. */
export function budgetCounts(
  pdb: PodDisruptionBudget,
  pods: Pod[],
  now = Date.now(),
): Pick<PodDisruptionBudgetStatus, 'expectedPods' | 'currentHealthy' | 'desiredHealthy' | 'disruptionsAllowed' | 'disruptedPods'> {
  const disrupted = Object.fromEntries(
    Object.entries(pdb.status?.disruptedPods ?? {}).filter(([name, at]) => {
      const pod = pods.find((p) => p.metadata?.name === name);
      return pod && !pod.metadata?.deletionTimestamp && now - Date.parse(at) < DISRUPTED_POD_TIMEOUT_MS;
    }),
  );
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const expectedPods = live.length;
  const currentHealthy = live.filter((p) => isPodReady(p) && !(p.metadata?.name && disrupted[p.metadata.name])).length;
  const spec = pdb.spec ?? {};
  const desiredHealthy =
    spec.maxUnavailable !== undefined
      ? Math.max(expectedPods - scaledValue(spec.maxUnavailable, expectedPods, true, '0'), 0)
      : scaledValue(spec.minAvailable ?? 1, expectedPods, true, '1');
  return {
    expectedPods,
    currentHealthy,
    desiredHealthy,
    disruptionsAllowed: Math.max(currentHealthy - desiredHealthy, 0),
    disruptedPods: Object.keys(disrupted).length ? disrupted : undefined,
  };
}

/**
 * Keeps each PodDisruptionBudget's status current — pods expected, healthy
 * (Ready), desired healthy, disruptions allowed and the DisruptionAllowed
 * condition — which the eviction API reads before letting a pod go.
 */
export class DisruptionController implements Controller {
  readonly name = 'disruption';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #budgets: Informer<PodDisruptionBudget>;
  #pods: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#budgets = ctx.informers.for<PodDisruptionBudget>(POD_DISRUPTION_BUDGETS);
    this.#pods = ctx.informers.for<Pod>(PODS);
    const budgetsOf = (p: Pod) =>
      this.#budgets
        .list()
        .filter((b) => b.metadata?.namespace === p.metadata?.namespace && this.#selects(b, p))
        .map(objectKey);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      watches: [primary(this.#budgets, ['add', 'update']), watch(this.#pods, budgetsOf)],
      reconcile: (key) => this.sync(key),
    });
  }

  #selects(b: PodDisruptionBudget, p: Pod): boolean {
    try {
      return matchesLabels(fromObjectSelector(b.spec?.selector ?? {}), p.metadata?.labels);
    } catch {
      return false;
    }
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<void> {
    const pdb = this.#budgets.get(key);
    if (!pdb || pdb.metadata?.deletionTimestamp) return;
    const pods = this.#pods.list().filter((p) => p.metadata?.namespace === pdb.metadata?.namespace && this.#selects(pdb, p));
    const counts = budgetCounts(pdb, pods);
    const allowed = (counts.disruptionsAllowed ?? 0) > 0;
    const prev = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    const status: PodDisruptionBudgetStatus = {
      ...counts,
      observedGeneration: pdb.metadata?.generation,
      conditions: [
        {
          type: 'DisruptionAllowed',
          status: allowed ? 'True' : 'False',
          reason: allowed ? 'SufficientPods' : 'InsufficientPods',
          message: '',
          observedGeneration: pdb.metadata?.generation,
          lastTransitionTime: transitionTime(prev, allowed ? 'True' : 'False', rfc3339()),
        },
      ],
    };
    const same =
      (['expectedPods', 'currentHealthy', 'desiredHealthy', 'disruptionsAllowed', 'observedGeneration'] as const).every((k) => pdb.status?.[k] === status[k]) &&
      JSON.stringify(pdb.status?.disruptedPods ?? {}) === JSON.stringify(status.disruptedPods ?? {}) &&
      prev?.status === status.conditions?.[0]?.status;
    if (same) return;
    await this.#ctx.client.update(
      { ...POD_DISRUPTION_BUDGETS, version: 'v1', namespace: pdb.metadata?.namespace, name: pdb.metadata?.name, subresource: 'status' },
      { ...pdb, status },
    );
  }
}
