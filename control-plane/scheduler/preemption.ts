import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from './cache.ts';
import type { CycleState, FilterPlugin, Rejection } from './framework.ts';

export interface PreemptionCandidate {
  node: NodeInfo;
  victims: Pod[];
}

const priorityOf = (p: Pod) => p.spec?.priority ?? 0;
const startOf = (p: Pod) => Date.parse(p.status?.startTime ?? p.metadata?.creationTimestamp ?? '') || 0;

function passes(filters: FilterPlugin[], state: CycleState, node: NodeInfo): boolean {
  return filters.every((f) => f.filter(state, node) === null);
}

/**
 * The fewest lower-priority pods whose eviction lets the pod onto this node:
 * remove them all, check that the pod fits, then give back (highest priority
 * first) every pod that can stay. Null when even removing them all is not enough.
 */
export function victimsOn(state: CycleState, filters: FilterPlugin[], node: NodeInfo): Pod[] | null {
  const priority = priorityOf(state.pod);
  const lower = [...node.pods.values()].filter((p) => priorityOf(p) < priority && !p.metadata?.deletionTimestamp);
  if (lower.length === 0) return null;
  const trial = node.clone();
  for (const p of lower) trial.removePod(`${p.metadata?.namespace}/${p.metadata?.name}`);
  if (!passes(filters, state, trial)) return null;
  const victims: Pod[] = [];
  for (const p of lower.sort((a, b) => priorityOf(b) - priorityOf(a) || startOf(a) - startOf(b))) {
    trial.addPod(p);
    if (!passes(filters, state, trial)) {
      trial.removePod(`${p.metadata?.namespace}/${p.metadata?.name}`);
      victims.push(p);
    }
  }
  return victims;
}

function lexicographicallyLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return false;
}

/**
 * PostFilter by priority, as kube-scheduler's DefaultPreemption: among the
 * nodes rejected for reasons eviction can cure, the one whose victims are
 * cheapest — lowest highest-victim priority, then lowest priority sum, then
 * fewest victims, then the most recently started.
 */
export function pickPreemption(state: CycleState, filters: FilterPlugin[], rejected: { node: NodeInfo; rejection: Rejection }[]): PreemptionCandidate | null {
  if (state.pod.spec?.preemptionPolicy === 'Never') return null;
  let best: (PreemptionCandidate & { rank: number[] }) | null = null;
  for (const { node, rejection } of rejected) {
    if (rejection.unresolvable) continue;
    const victims = victimsOn(state, filters, node);
    if (!victims?.length) continue;
    const rank = [Math.max(...victims.map(priorityOf)), victims.reduce((n, p) => n + priorityOf(p), 0), victims.length, -Math.max(...victims.map(startOf))];
    if (!best || lexicographicallyLess(rank, best.rank)) best = { node, victims, rank };
  }
  return best ? { node: best.node, victims: best.victims } : null;
}
