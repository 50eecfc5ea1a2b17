import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../apimachinery/index.ts';
import { isPodReady } from './controller-ref.ts';

// How many replicas a resource metric asks for, as Kubernetes' replica
// calculator reckons it: the usage of the ready pods against their requests
// (or an average value), left alone within a 10 % tolerance; pods with no
// reading yet, and pods not ready for a CPU target, are counted in the
// direction that makes the change smaller, and a change they would reverse is
// not made.

/** Usage ratios this close to 1 change nothing. */
export const TOLERANCE = 0.1;

export interface ResourceTarget {
  resource: string;
  /** percent of the pods' requests */
  averageUtilization?: number;
  /** a quantity per pod */
  averageValue?: number;
}

export interface ReplicaProposal {
  replicas: number;
  /** the ready pods' usage: average utilization (percent of requests) and average value, over the pods with readings */
  utilization?: number;
  averageValue: number;
}

/**
 * A pod's request for a resource as the autoscaler counts it: its app containers' requests
 * summed, undefined where one has none (not apimachinery's podRequest, which adds init
 * containers and overhead, as the scheduler counts).
 */
function containersRequest(pod: Pod, resource: string): number | undefined {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const r = c.resources?.requests?.[resource];
    if (r === undefined) return undefined;
    sum += parseQuantity(String(r));
  }
  return sum;
}

/**
 * The replicas `target` asks for, from the pods the scale selects and their
 * usage (by pod name, in the resource's base unit: cores, bytes). Throws when
 * there is nothing to reckon with (no pods, or a pod without a request for a
 * utilization target).
 */
export function resourceReplicas(o: { current: number; pods: Pod[]; usage: Map<string, number>; target: ResourceTarget }): ReplicaProposal {
  const { target, usage } = o;
  // pods going away or failed count for nothing
  const pods = o.pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Failed');
  if (!pods.length) throw new Error('no pods returned by selector while calculating replica count');
  const measured: Pod[] = [];
  const missing: Pod[] = [];
  const unready: Pod[] = [];
  for (const p of pods) {
    if (!usage.has(p.metadata?.name ?? '')) missing.push(p);
    // a CPU reading of a pod not yet ready says little about the load it will carry
    else if (target.resource === 'cpu' && (p.status?.phase === 'Pending' || !isPodReady(p))) unready.push(p);
    else measured.push(p);
  }
  if (!measured.length) throw new Error(`did not receive metrics for targeted pods (pods might be unready)`);
  const requests = new Map<string, number>();
  if (target.averageUtilization !== undefined) {
    for (const p of pods) {
      const r = containersRequest(p, target.resource);
      if (r === undefined || r === 0) throw new Error(`missing request for ${target.resource} in pod ${p.metadata?.namespace}/${p.metadata?.name}`);
      requests.set(p.metadata?.name ?? '', r);
    }
  }
  /** the usage ratio to the target over some pods, each one's usage as given */
  const ratioOf = (set: { pod: Pod; used: number }[]) => {
    const used = set.reduce((n, s) => n + s.used, 0);
    if (target.averageUtilization !== undefined) {
      const requested = set.reduce((n, s) => n + (requests.get(s.pod.metadata?.name ?? '') ?? 0), 0);
      return { ratio: ((used / requested) * 100) / target.averageUtilization, utilization: Math.round((used / requested) * 100), average: used / set.length };
    }
    return { ratio: used / set.length / (target.averageValue ?? 1), utilization: undefined, average: used / set.length };
  };
  const readings = measured.map((pod) => ({ pod, used: usage.get(pod.metadata?.name ?? '') ?? 0 }));
  const first = ratioOf(readings);
  const proposal = (replicas: number): ReplicaProposal => ({ replicas, utilization: first.utilization, averageValue: first.average });
  if (!missing.length && !unready.length) {
    if (Math.abs(first.ratio - 1) <= TOLERANCE) return proposal(o.current);
    return proposal(Math.ceil(first.ratio * readings.length));
  }
  if (Math.abs(first.ratio - 1) <= TOLERANCE) return proposal(o.current);
  // the pods without a say: using all they request (or the target value) when scaling down, nothing when scaling up (unready ones only then)
  const up = first.ratio > 1;
  const assumedUse = (p: Pod) => (target.averageUtilization !== undefined ? (requests.get(p.metadata?.name ?? '') ?? 0) : (target.averageValue ?? 0));
  const assumed = (p: Pod) => ({ pod: p, used: up ? 0 : assumedUse(p) });
  const all = [...readings, ...missing.map(assumed), ...(up ? unready.map(assumed) : [])];
  const again = ratioOf(all);
  if (Math.abs(again.ratio - 1) <= TOLERANCE || (up && again.ratio < 1) || (!up && again.ratio > 1)) return proposal(o.current);
  const replicas = Math.ceil(again.ratio * all.length);
  // a change the assumed pods would turn around is not made
  if ((again.ratio < 1 && replicas > o.current) || (again.ratio > 1 && replicas < o.current)) return proposal(o.current);
  return proposal(replicas);
}
