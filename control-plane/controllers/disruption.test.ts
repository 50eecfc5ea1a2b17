import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { describe, expect, it } from 'vitest';
import { budgetCounts } from './disruption.ts';

const pod = (name: string, ready: boolean): Pod => ({
  metadata: { name },
  spec: { containers: [] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pods = [pod('a', true), pod('b', true), pod('c', true), pod('d', false)];

describe('disruption budget counts', () => {
  it('allows disruptions down to minAvailable (a count or a percentage, rounded up)', () => {
    expect(budgetCounts({ spec: { minAvailable: 2 } }, pods)).toMatchObject({ expectedPods: 4, currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    expect(budgetCounts({ spec: { minAvailable: '60%' } }, pods)).toMatchObject({ desiredHealthy: 3, disruptionsAllowed: 0 });
  });

  it('derives desired health from maxUnavailable', () => {
    expect(budgetCounts({ spec: { maxUnavailable: 1 } }, pods)).toMatchObject({ desiredHealthy: 3, disruptionsAllowed: 0 });
    expect(budgetCounts({ spec: { maxUnavailable: '50%' } }, pods)).toMatchObject({ desiredHealthy: 2, disruptionsAllowed: 1 });
  });

  it('counts a pod whose eviction was granted as not healthy until it goes, for two minutes at most', () => {
    const now = Date.parse('2026-01-01T00:05:00Z');
    const pdb: PodDisruptionBudget = {
      spec: { minAvailable: 1 },
      status: {
        currentHealthy: 0,
        desiredHealthy: 0,
        disruptionsAllowed: 0,
        expectedPods: 0,
        disruptedPods: { a: '2026-01-01T00:04:30Z', b: '2026-01-01T00:01:00Z' },
      },
    };
    const counts = budgetCounts(pdb, pods, now);
    expect(counts.disruptedPods).toEqual({ a: '2026-01-01T00:04:30Z' });
    expect(counts.currentHealthy).toBe(2);
  });
});
