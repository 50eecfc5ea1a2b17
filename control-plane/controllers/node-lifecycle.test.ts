import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { conditionTaints, evictionTime, UNREACHABLE_TAINT } from './node-lifecycle.ts';

const pod = (tolerations: NonNullable<Pod['spec']>['tolerations']): Pod => ({ spec: { containers: [], tolerations } });

describe('node condition taints', () => {
  const taints = (conditions: Record<string, string>) => conditionTaints(Object.entries(conditions).map(([type, status]) => ({ type, status })), 't').map((x) => `${x.key}:${x.effect}`);

  it('taints not-ready and unreachable nodes for scheduling and execution, ready ones not at all', () => {
    expect(taints({ Ready: 'True', MemoryPressure: 'False' })).toEqual([]);
    expect(taints({ Ready: 'False' })).toEqual(['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
    expect(taints({ Ready: 'Unknown' })).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  });

  it('keeps pods off a node under pressure while its condition is True', () => {
    expect(taints({ Ready: 'True', MemoryPressure: 'True', DiskPressure: 'True', PIDPressure: 'True' })).toEqual(['node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/disk-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule']);
    expect(taints({ Ready: 'Unknown', MemoryPressure: 'Unknown' })).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  });
});

describe('taint-based eviction', () => {
  const added = '2026-01-01T00:00:00Z';
  const taints = [{ key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: added }];

  it('evicts a pod that does not tolerate the taint at once', () => {
    const before = Date.now();
    expect(evictionTime(pod([]), taints)).toBeGreaterThanOrEqual(before);
  });

  it('waits out the shortest matching tolerationSeconds, from when the taint was added', () => {
    const p = pod([{ key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { operator: 'Exists', tolerationSeconds: 30 }]);
    expect(evictionTime(p, taints)).toBe(Date.parse(added) + 30_000);
  });

  it('never evicts a pod tolerating the taint without a time limit, nor for NoSchedule taints', () => {
    expect(evictionTime(pod([{ key: UNREACHABLE_TAINT, operator: 'Exists' }]), taints)).toBeNull();
    expect(evictionTime(pod([]), [{ key: UNREACHABLE_TAINT, effect: 'NoSchedule' }])).toBeNull();
  });
});
