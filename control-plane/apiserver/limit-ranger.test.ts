import type { LimitRange, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { admitClaimLimits, admitPodLimits } from './limit-ranger.ts';

const range = (limits: NonNullable<LimitRange['spec']>['limits']): LimitRange => ({ metadata: { name: 'r' }, spec: { limits } });
const pod = (resources: object = {}): Pod => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox', resources }] } });
const refusal = (f: () => void) => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
};

describe('LimitRanger', () => {
  it('fills in default requests and limits a container lacks, and says so in an annotation', () => {
    const p = pod({ requests: { memory: '64Mi' } });
    admitPodLimits(p, [range([{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }])]);
    expect(p.spec?.containers[0]?.resources).toEqual({ requests: { memory: '64Mi', cpu: '100m' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(p.metadata?.annotations?.['kubernetes.io/limit-ranger']).toBe(
      'LimitRanger plugin set: cpu request for container c; cpu, memory limit for container c',
    );
  });

  it("refuses what is outside min, max and the ratio, with Kubernetes' words, all at once", () => {
    const ranges = [range([{ type: 'Container', min: { cpu: '100m' }, max: { memory: '1Gi' }, maxLimitRequestRatio: { cpu: '2' } }])];
    expect(refusal(() => admitPodLimits(pod({ requests: { cpu: '50m' }, limits: { cpu: '500m', memory: '2Gi' } }), ranges))).toBe(
      'pods "p" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Container is 1Gi, but limit is 2Gi, cpu max limit to request ratio per Container is 2, but provided ratio is 10.000000]',
    );
    expect(refusal(() => admitPodLimits(pod({ limits: { cpu: '200m', memory: '512Mi' } }), ranges))).toBeUndefined();
    expect(refusal(() => admitPodLimits(pod(), [range([{ type: 'Container', max: { memory: '1Gi' } }])]))).toBe(
      'pods "p" is forbidden: maximum memory usage per Container is 1Gi.  No limit is specified',
    );
  });

  it('holds a pod to its Pod items by the sum of its containers', () => {
    const two: Pod = {
      metadata: { name: 'p' },
      spec: {
        containers: [
          { name: 'a', resources: { limits: { memory: '600Mi' } } },
          { name: 'b', resources: { limits: { memory: '600Mi' } } },
        ],
      },
    };
    expect(refusal(() => admitPodLimits(two, [range([{ type: 'Pod', max: { memory: '1Gi' } }])]))).toBe(
      'pods "p" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi',
    );
  });

  it('holds a claim to its PersistentVolumeClaim items', () => {
    const claim = (storage: string) => ({ metadata: { name: 'data' }, spec: { resources: { requests: { storage } } } });
    const ranges = [range([{ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '5Gi' } }])];
    expect(refusal(() => admitClaimLimits(claim('10Gi'), ranges))).toBe(
      'persistentvolumeclaims "data" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi',
    );
    expect(refusal(() => admitClaimLimits(claim('512Mi'), ranges))).toBe(
      'persistentvolumeclaims "data" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 512Mi',
    );
    expect(refusal(() => admitClaimLimits(claim('2Gi'), ranges))).toBeUndefined();
  });
});
