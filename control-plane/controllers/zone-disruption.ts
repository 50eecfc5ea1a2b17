import type { Node } from 'kubernetes-types/core/v1.js';

/** A zone's health as kube-controller-manager's node lifecycle controller names it. */
export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

export interface DisruptionOptions {
  /** nodes per second whose pods may be evicted in a healthy zone (--node-eviction-rate, 0.1) */
  nodeEvictionRate: number;
  /** the same in a partly disrupted zone larger than the threshold below (--secondary-node-eviction-rate, 0.01) */
  secondaryNodeEvictionRate: number;
  /** share of not-ready nodes (at least 3) that makes a zone partly disrupted (--unhealthy-zone-threshold, 0.55) */
  unhealthyZoneThreshold: number;
  /** zones of at most this many nodes stop evicting when partly disrupted (--large-cluster-size-threshold, 50) */
  largeClusterSizeThreshold: number;
}

export const DEFAULT_DISRUPTION: DisruptionOptions = {
  nodeEvictionRate: 0.1,
  secondaryNodeEvictionRate: 0.01,
  unhealthyZoneThreshold: 0.55,
  largeClusterSizeThreshold: 50,
};

/** The zone a node is in: its region and zone labels, as the controller keys them ("" without labels). */
export function zoneOf(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const region = labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region || zone ? `${region}:\x00:${zone}` : '';
}

/** A zone with no Ready node is fully disrupted; one where most (and at least three) are not Ready is partly. */
export function zoneState(readyStatuses: string[], unhealthyZoneThreshold: number): ZoneState {
  const ready = readyStatuses.filter((s) => s === 'True').length;
  const notReady = readyStatuses.length - ready;
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / readyStatuses.length >= unhealthyZoneThreshold) return 'PartialDisruption';
  return 'Normal';
}

/** Nodes per second that may get a NoExecute taint in a zone of this state and size. */
export function evictionRate(state: ZoneState, zoneSize: number, opts: DisruptionOptions): number {
  if (state === 'PartialDisruption') return zoneSize > opts.largeClusterSizeThreshold ? opts.secondaryNodeEvictionRate : 0;
  return opts.nodeEvictionRate;
}

/** A per-zone token bucket of one token: whether a node of `zone` may be tainted for eviction now. */
export class ZoneLimiter {
  #last = new Map<string, number>();

  take(zone: string, rate: number, now: number): boolean {
    if (rate <= 0) return false;
    const last = this.#last.get(zone);
    if (last !== undefined && now - last < 1000 / rate) return false;
    this.#last.set(zone, now);
    return true;
  }
}
