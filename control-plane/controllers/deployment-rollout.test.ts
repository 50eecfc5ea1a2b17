import { describe, expect, it } from 'vitest';
import { nextNewReplicas, oldScaleDown, rollingBounds, scaledValue } from './deployment-rollout.ts';

const rs = (replicas: number, available: number, created = '2026-01-01T00:00:00Z') => ({ replicas, available, created });

describe('rolling update arithmetic', () => {
  it('rounds surge up and unavailability down, never both zero', () => {
    expect(rollingBounds(10, '25%', '25%')).toEqual({ surge: 3, unavailable: 2 });
    expect(rollingBounds(1, '25%', '25%')).toEqual({ surge: 1, unavailable: 0 });
    expect(rollingBounds(3, 0, 0)).toEqual({ surge: 0, unavailable: 1 });
    expect(rollingBounds(2, 1, 5)).toEqual({ surge: 1, unavailable: 2 });
    expect(scaledValue(undefined, 8, true, '25%')).toBe(2);
  });

  it('grows the new ReplicaSet only as far as desired + surge', () => {
    // 3 desired, surge 1: with 3 old replicas the new one may have 1
    expect(nextNewReplicas(3, 1, rs(0, 0), [rs(3, 3)])).toBe(1);
    // once old shrank to 2, the new one may reach 2
    expect(nextNewReplicas(3, 1, rs(1, 1), [rs(2, 2)])).toBe(2);
    // total already at the ceiling: no growth
    expect(nextNewReplicas(3, 1, rs(1, 0), [rs(3, 3)])).toBe(1);
    // scaled down: straight to desired
    expect(nextNewReplicas(2, 1, rs(5, 5), [])).toBe(2);
  });

  it('takes old replicas down without going below desired − maxUnavailable', () => {
    // 3 desired, 0 unavailable allowed; new has 1 available: one old may go
    expect(oldScaleDown(3, 0, rs(1, 1), [rs(3, 3)])).toEqual([1]);
    // the new pod is not available yet: nothing may go
    expect(oldScaleDown(3, 0, rs(1, 0), [rs(3, 3)])).toEqual([0]);
    // broken old replicas go first, whatever availability says
    expect(oldScaleDown(3, 1, rs(1, 0), [rs(3, 1)])).toEqual([1]);
    // oldest ReplicaSet first
    expect(oldScaleDown(4, 0, rs(2, 2), [rs(2, 2, '2026-01-02T00:00:00Z'), rs(2, 2, '2026-01-01T00:00:00Z')])).toEqual([0, 2]);
    expect(oldScaleDown(3, 1, rs(3, 3), [rs(0, 0)])).toEqual([0]);
  });
});
