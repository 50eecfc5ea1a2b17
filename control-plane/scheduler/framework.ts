import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo, Resources, SchedulerCache } from './cache.ts';

/** What one scheduling attempt knows about its pod, shared by the plugins (kube's CycleState). */
export interface CycleState {
  pod: Pod;
  requests: Resources;
  nonZeroRequests: Resources;
  cache: SchedulerCache;
  /** per-plugin precomputation for this attempt */
  data: Map<string, unknown>;
}

/**
 * Why a node was rejected, worded as kube-scheduler words it
 * ("Insufficient cpu"). `unresolvable` when evicting pods could not help,
 * so preemption skips the node.
 */
export interface Rejection {
  reason: string;
  unresolvable?: boolean;
}

export interface FilterPlugin {
  readonly name: string;
  /** once per attempt; 'skip' when the plugin has nothing to check for this pod */
  preFilter?(state: CycleState): 'skip' | undefined;
  filter(state: CycleState, node: NodeInfo): Rejection | null;
}

export interface ScorePlugin {
  readonly name: string;
  /** once per attempt over the feasible nodes; 'skip' when the plugin has no opinion on this pod */
  preScore?(state: CycleState, nodes: NodeInfo[]): 'skip' | undefined;
  score(state: CycleState, node: NodeInfo): number;
  /** rescales raw scores in place to 0..100 (MaxNodeScore) */
  normalize?(scores: number[], state: CycleState): void;
}

export const MAX_NODE_SCORE = 100;

/** Scales scores to 0..100 by the largest; with `reverse`, the smallest raw score gets 100. */
export function normalizeByMax(scores: number[], reverse = false): void {
  const max = Math.max(0, ...scores);
  for (let i = 0; i < scores.length; i++) {
    const s = max === 0 ? 0 : ((scores[i] as number) * MAX_NODE_SCORE) / max;
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}

/** A scheduler profile: which plugins run, with which score weights, for pods naming this scheduler. */
export interface Profile {
  schedulerName: string;
  filters: FilterPlugin[];
  scores: { plugin: ScorePlugin; weight: number }[];
}
