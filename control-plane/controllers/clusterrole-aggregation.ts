import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { defineController, fromObjectSelector, matchesLabels, watch, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { CLUSTER_ROLES } from './shared-informers.ts';

/**
 * The rules an aggregated ClusterRole gets: those of every other ClusterRole
 * one of its selectors matches, in name order, each distinct rule once.
 */
export function aggregatedRules(role: ClusterRole, all: ClusterRole[]): PolicyRule[] {
  const selectors = (role.aggregationRule?.clusterRoleSelectors ?? []).map((s) => fromObjectSelector(s as never));
  const sources = all
    .filter((r) => r.metadata?.name !== role.metadata?.name && selectors.some((s) => matchesLabels(s, r.metadata?.labels)))
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const seen = new Set<string>();
  const rules: PolicyRule[] = [];
  for (const r of sources.flatMap((s) => s.rules ?? [])) {
    const key = JSON.stringify(r);
    if (seen.has(key)) continue;
    seen.add(key);
    rules.push(r);
  }
  return rules;
}

/**
 * kube-controller-manager's clusterrole-aggregation controller: keeps the
 * rules of every ClusterRole with an aggregationRule (admin, edit, view, and
 * any an operator makes) the union of the roles its selectors match, so a
 * CRD's role labelled aggregate-to-edit reaches everyone bound to edit.
 */
export class ClusterRoleAggregationController implements Controller {
  readonly name = 'clusterrole-aggregation';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #roles: Informer<ClusterRole>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#roles = ctx.informers.for<ClusterRole>(CLUSTER_ROLES);
    // any role may feed any aggregated one: look at them all (there are few)
    const aggregated = () =>
      this.#roles
        .list()
        .filter((r) => r.aggregationRule)
        .map((r) => r.metadata?.name ?? '');
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      backoff: { baseDelayMs: 100, maxDelayMs: 30_000 },
      watches: [watch(this.#roles, aggregated)],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(name: string): Promise<void> {
    const role = this.#roles.get(name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, this.#roles.list());
    if (JSON.stringify(rules) === JSON.stringify(role.rules ?? [])) return;
    await this.#ctx.client.update({ ...CLUSTER_ROLES, version: 'v1', name }, { ...role, rules });
    this.#ctx.log.info({ role: name, rules: rules.length }, 'aggregated cluster role rules');
  }
}
