import type { Pod } from 'kubernetes-types/core/v1.js';
import { podRequest } from '../../apimachinery/index.ts';
import type { PodUsage } from '../stats/index.ts';
import type { StarvedResource } from './signals.ts';

export interface Candidate {
  pod: Pod;
  /** undefined when the pod's usage could not be read: such pods go first, as the kubelet has it */
  usage: PodUsage | undefined;
}

type Cmp = (a: Candidate, b: Candidate) => number;

/** true before false */
const trueFirst = (a: boolean, b: boolean) => Number(b) - Number(a);
const noStatsFirst: Cmp = (a, b) => trueFirst(!a.usage, !b.usage);

function orderedBy(...cmps: Cmp[]): Cmp {
  return (a, b) => {
    for (const cmp of cmps) {
      const r = cmp(a, b);
      if (r !== 0) return r;
    }
    return 0;
  };
}

/** Lower priority goes first. */
const priority: Cmp = (a, b) => (a.pod.spec?.priority ?? 0) - (b.pod.spec?.priority ?? 0);

const memoryAboveRequest = (c: Candidate) => (c.usage?.memoryWorkingSet ?? 0) - podRequest(c.pod, 'memory');
const diskUsed = (c: Candidate, resource: 'ephemeral-storage' | 'inodes') =>
  (resource === 'inodes' ? c.usage?.ephemeral?.inodes : c.usage?.ephemeral?.bytes) ?? 0;
const diskAboveRequest = (c: Candidate, resource: 'ephemeral-storage' | 'inodes') =>
  diskUsed(c, resource) - (resource === 'inodes' ? 0 : podRequest(c.pod, 'ephemeral-storage'));

const rankers: Record<StarvedResource, Cmp> = {
  // usage above requests first, then priority, then the most memory above requests
  memory: orderedBy(
    noStatsFirst,
    (a, b) => trueFirst(memoryAboveRequest(a) > 0, memoryAboveRequest(b) > 0),
    priority,
    (a, b) => memoryAboveRequest(b) - memoryAboveRequest(a),
  ),
  'ephemeral-storage': orderedBy(
    noStatsFirst,
    (a, b) => trueFirst(diskAboveRequest(a, 'ephemeral-storage') > 0, diskAboveRequest(b, 'ephemeral-storage') > 0),
    priority,
    (a, b) => diskAboveRequest(b, 'ephemeral-storage') - diskAboveRequest(a, 'ephemeral-storage'),
  ),
  inodes: orderedBy(
    noStatsFirst,
    (a, b) => trueFirst(diskAboveRequest(a, 'inodes') > 0, diskAboveRequest(b, 'inodes') > 0),
    priority,
    (a, b) => diskAboveRequest(b, 'inodes') - diskAboveRequest(a, 'inodes'),
  ),
  // processes: priority, then the most processes
  pids: orderedBy(noStatsFirst, priority, (a, b) => (b.usage?.processes ?? 0) - (a.usage?.processes ?? 0)),
};

/** The pods in the order the kubelet would evict them to reclaim `resource`. */
export function rankForEviction(candidates: readonly Candidate[], resource: StarvedResource): Candidate[] {
  return [...candidates].sort(rankers[resource]);
}
