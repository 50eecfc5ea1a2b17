import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ApiError, errors, fromObjectSelector, matchesLabels, rfc3339 } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';
import type { Obj } from './resource-info.ts';

interface Eviction {
  metadata?: { name?: string; namespace?: string };
  deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] };
}

function selects(pdb: PodDisruptionBudget, pod: Obj): boolean {
  try {
    // an empty selector in policy/v1 selects every pod in the namespace
    return matchesLabels(fromObjectSelector(pdb.spec?.selector ?? {}), pod.metadata.labels);
  } catch {
    return false;
  }
}

/**
 * POST pods/{name}/eviction: deletes the pod unless a PodDisruptionBudget
 * forbids it (429 with reason DisruptionBudget), charging the budget.
 */
export async function evictPod(pods: Registry, budgets: Registry, namespace: string, name: string, eviction: Eviction, dryRun: boolean): Promise<void> {
  if (eviction.metadata?.name && eviction.metadata.name !== name) throw errors.badRequest(`name in URL does not match name in Eviction object`);
  const pod = await pods.get(namespace, name);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  // pods that are done or not yet running cost no budget
  const charged = phase === 'Running' || phase === 'Unknown';
  const matching =
    charged && !pod.metadata.deletionTimestamp
      ? (await budgets.list({ namespace })).items.filter((b) => selects(b as unknown as PodDisruptionBudget, pod))
      : [];
  if (matching.length > 1)
    throw new ApiError('InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  const budget = matching[0];
  if (budget) {
    await budgets.guaranteedUpdate(
      namespace,
      budget.metadata.name as string,
      (b) => {
        const pdb = b as unknown as PodDisruptionBudget;
        const status = (pdb.status ??= { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 });
        if ((status.observedGeneration ?? 0) < (b.metadata.generation ?? 1) || status.disruptionsAllowed <= 0) {
          const why =
            status.disruptionsAllowed <= 0
              ? `The disruption budget ${b.metadata.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`
              : `The disruption budget ${b.metadata.name} is still being processed by the server.`;
          throw new ApiError('TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
            causes: [{ reason: 'DisruptionBudget', message: why }],
          });
        }
        status.disruptionsAllowed -= 1;
        status.disruptedPods = { ...(status.disruptedPods ?? {}), [name]: rfc3339() };
        return b;
      },
      { subresource: 'status', dryRun },
    );
  }
  const opts = eviction.deleteOptions ?? {};
  await pods.delete(namespace, name, {
    gracePeriodSeconds: opts.gracePeriodSeconds,
    preconditions: opts.preconditions,
    dryRun: dryRun || (opts.dryRun ?? []).includes('All'),
  });
}
