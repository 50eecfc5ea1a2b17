import type { NodeStats } from '../stats/index.ts';
import { thresholdQuantity, type Signal, type Threshold } from './thresholds.ts';

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';
/** What a signal starves: the resource pods are ranked by and the eviction message names. */
export type StarvedResource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';

export const SIGNAL_CONDITION: Record<Signal, PressureCondition> = {
  'memory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

export const SIGNAL_RESOURCE: Record<Signal, StarvedResource> = {
  'memory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage',
  'imagefs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

export interface Observation {
  available: number;
  capacity: number;
}
export type Observations = Partial<Record<Signal, Observation>>;

/** Each signal's available amount and capacity, from the node's figures. */
export function observe(stats: NodeStats): Observations {
  return {
    'memory.available': { available: stats.memory.availableBytes, capacity: stats.memory.capacityBytes },
    'nodefs.available': { available: stats.nodefs.availableBytes, capacity: stats.nodefs.capacityBytes },
    'nodefs.inodesFree': { available: stats.nodefs.inodesFree, capacity: stats.nodefs.inodes },
    'imagefs.available': { available: stats.imagefs.availableBytes, capacity: stats.imagefs.capacityBytes },
    'imagefs.inodesFree': { available: stats.imagefs.inodesFree, capacity: stats.imagefs.inodes },
    'pid.available': { available: stats.rlimit.maxPID - stats.rlimit.processes, capacity: stats.rlimit.maxPID },
  };
}

/**
 * The thresholds whose signal is below them now (grace periods aside). With
 * `withMinReclaim` a threshold counts as met until its minimum reclaim is
 * free beyond it too, so a threshold once crossed is resolved only then.
 */
export function thresholdsMet(thresholds: readonly Threshold[], obs: Observations, withMinReclaim: boolean): Threshold[] {
  return thresholds.filter((t) => {
    const o = obs[t.signal];
    if (!o) return false;
    let quantity = thresholdQuantity(t.value, o.capacity);
    if (withMinReclaim && t.minReclaim) quantity += thresholdQuantity(t.minReclaim, o.capacity);
    return o.available < quantity;
  });
}

/** When each met threshold was first seen met (the start of its grace period). */
export function firstObservedAt(met: readonly Threshold[], previous: ReadonlyMap<Threshold, number>, now: number): Map<Threshold, number> {
  return new Map(met.map((t) => [t, previous.get(t) ?? now]));
}

/** The met thresholds whose grace period has run out (hard ones at once). */
export function gracePeriodsMet(observedAt: ReadonlyMap<Threshold, number>, now: number): Threshold[] {
  return [...observedAt].filter(([t, at]) => now - at >= t.gracePeriodMs).map(([t]) => t);
}

/**
 * Node conditions stay set for the pressure transition period after their
 * last threshold stopped being met, so a node does not flap. Returns when
 * each condition was last observed and those still in force.
 */
export function pressureConditions(
  met: readonly Threshold[],
  lastObservedAt: ReadonlyMap<PressureCondition, number>,
  now: number,
  transitionMs: number,
): { lastObservedAt: Map<PressureCondition, number>; active: Set<PressureCondition> } {
  const next = new Map(lastObservedAt);
  for (const t of met) next.set(SIGNAL_CONDITION[t.signal], now);
  const active = new Set([...next].filter(([, at]) => at === now || now - at < transitionMs).map(([c]) => c));
  for (const c of next.keys()) if (!active.has(c)) next.delete(c);
  return { lastObservedAt: next, active };
}

/** Memory first, as the kubelet reclaims it before anything else. */
export function byEvictionPriority(a: Threshold, b: Threshold): number {
  return Number(b.signal === 'memory.available') - Number(a.signal === 'memory.available');
}
