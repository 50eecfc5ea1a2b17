import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { normalizeReplicas } from './hpa-behavior.ts';
import { resourceReplicas } from './hpa-replicas.ts';

const pod = (name: string, o: { ready?: boolean; cpu?: string } = {}): Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', resources: o.cpu === undefined ? { requests: { cpu: '100m' } } : o.cpu ? { requests: { cpu: o.cpu } } : {} }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});
const usage = (entries: [string, number][]) => new Map(entries);
const cpu50 = { resource: 'cpu', averageUtilization: 50 };

describe('HPA replica calculation', () => {
  it('scales by the ready pods usage against their requests, and leaves a ratio within 10 % alone', () => {
    // 2 pods at 150 % of a 100m request, target 50 %: ratio 3 -> 6 pods
    expect(
      resourceReplicas({
        current: 2,
        pods: [pod('a'), pod('b')],
        usage: usage([
          ['a', 0.15],
          ['b', 0.15],
        ]),
        target: cpu50,
      }),
    ).toEqual({
      replicas: 6,
      utilization: 150,
      averageValue: 0.15,
    });
    expect(
      resourceReplicas({
        current: 2,
        pods: [pod('a'), pod('b')],
        usage: usage([
          ['a', 0.054],
          ['b', 0.05],
        ]),
        target: cpu50,
      }).replicas,
    ).toBe(2);
    expect(
      resourceReplicas({
        current: 4,
        pods: [pod('a'), pod('b'), pod('c'), pod('d')],
        usage: usage([
          ['a', 0.01],
          ['b', 0.01],
          ['c', 0.01],
          ['d', 0.01],
        ]),
        target: cpu50,
      }).replicas,
    ).toBe(1);
  });

  it('counts pods without readings as idle when scaling up, as using all they request when scaling down, and makes no change they would reverse', () => {
    // a reading of 100 % on one pod of two: up to 4 if the other were as busy, but the silent one counts as idle -> ratio 1 -> no change
    expect(
      resourceReplicas({ current: 2, pods: [pod('a'), pod('b')], usage: usage([['a', 0.1]]), target: { resource: 'cpu', averageUtilization: 50 } }).replicas,
    ).toBe(2);
    // one pod at 300 % and an unready one: the unready one is counted as idle -> 150 % over both -> 6
    expect(
      resourceReplicas({
        current: 2,
        pods: [pod('a'), pod('b', { ready: false })],
        usage: usage([
          ['a', 0.3],
          ['b', 0.3],
        ]),
        target: cpu50,
      }).replicas,
    ).toBe(6);
    // scaling down, the silent pod counts at its full request: 0 % and 100 % against 50 % -> no change
    expect(resourceReplicas({ current: 2, pods: [pod('a'), pod('b')], usage: usage([['a', 0]]), target: cpu50 }).replicas).toBe(2);
  });

  it('scales on an average value, and refuses to reckon without requests or pods', () => {
    expect(resourceReplicas({ current: 1, pods: [pod('a')], usage: usage([['a', 300e6]]), target: { resource: 'memory', averageValue: 100e6 } }).replicas).toBe(
      3,
    );
    expect(() => resourceReplicas({ current: 1, pods: [pod('a', { cpu: '' })], usage: usage([['a', 0.1]]), target: cpu50 })).toThrow(
      'missing request for cpu in pod default/a',
    );
    expect(() => resourceReplicas({ current: 1, pods: [], usage: usage([]), target: cpu50 })).toThrow(
      'no pods returned by selector while calculating replica count',
    );
  });
});

describe('HPA normalization', () => {
  const base = { min: 1, max: 10, recommendations: [], events: [], now: 1_000_000 };

  it('without a behavior: at most double (or 4) a step, within the bounds, and the highest recommendation of five minutes before scaling down', () => {
    expect(normalizeReplicas({ ...base, current: 1, proposed: 9 })).toEqual({ replicas: 4, limit: 'ScaleUpLimit' });
    expect(normalizeReplicas({ ...base, current: 8, proposed: 30 })).toEqual({ replicas: 10, limit: 'TooManyReplicas' });
    expect(normalizeReplicas({ ...base, current: 3, proposed: 0 })).toEqual({ replicas: 1, limit: 'TooFewReplicas' });
    const recent = [{ at: base.now - 60_000, value: 5 }];
    expect(normalizeReplicas({ ...base, current: 5, proposed: 2, recommendations: recent })).toEqual({ replicas: 5, limit: 'DesiredWithinRange' });
    const old = [{ at: base.now - 6 * 60_000, value: 5 }];
    expect(normalizeReplicas({ ...base, current: 5, proposed: 2, recommendations: old })).toEqual({ replicas: 2, limit: 'DesiredWithinRange' });
  });

  it("with a behavior: each direction's window and policies, Max taking the policy that allows most", () => {
    const behavior = {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
      scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
    };
    expect(normalizeReplicas({ ...base, behavior, current: 2, proposed: 9 })).toEqual({ replicas: 4, limit: 'ScaleUpLimit' });
    // 2 added within the period already: the period started at 2, so 4 is still the limit
    expect(normalizeReplicas({ ...base, behavior, current: 4, proposed: 9, events: [{ at: base.now - 10_000, value: 2 }] })).toEqual({
      replicas: 4,
      limit: 'ScaleUpLimit',
    });
    expect(normalizeReplicas({ ...base, behavior, current: 8, proposed: 1 })).toEqual({ replicas: 4, limit: 'ScaleDownLimit' });
    const disabled = { ...behavior, scaleDown: { ...behavior.scaleDown, selectPolicy: 'Disabled' } };
    expect(normalizeReplicas({ ...base, behavior: disabled, current: 8, proposed: 1 }).replicas).toBe(8);
  });
});
