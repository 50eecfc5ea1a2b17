import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { Expectations } from './expectations.ts';
import { deletionOrder } from './replica-set.ts';
import { podTemplateHash } from './template-hash.ts';

const pod = (name: string, opts: { node?: string; phase?: string; readySince?: string; restarts?: number; created?: string } = {}): Pod => ({
  metadata: { name, creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z' },
  spec: { containers: [], nodeName: opts.node },
  status: {
    phase: opts.phase ?? 'Running',
    conditions: opts.readySince ? [{ type: 'Ready', status: 'True', lastTransitionTime: opts.readySince }] : [],
    containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: true, restartCount: opts.restarts ?? 0 }],
  },
});

describe('ReplicaSet scale-down order', () => {
  it('deletes unscheduled, pending, unready, recently ready, restarting and newer pods first', () => {
    const pods = [
      pod('old-ready', { node: 'n', readySince: '2026-01-01T00:00:00Z' }),
      pod('recent-ready', { node: 'n', readySince: '2026-01-02T00:00:00Z' }),
      pod('unready', { node: 'n' }),
      pod('pending', { node: 'n', phase: 'Pending' }),
      pod('unscheduled', { phase: 'Pending' }),
      pod('crashy', { node: 'n', restarts: 4 }),
      pod('newer-unready', { node: 'n', created: '2026-01-03T00:00:00Z' }),
    ];
    expect([...pods].sort(deletionOrder).map((p) => p.metadata?.name)).toEqual([
      'unscheduled',
      'pending',
      'crashy',
      'newer-unready',
      'unready',
      'recent-ready',
      'old-ready',
    ]);
  });
});

describe('expectations', () => {
  it('holds a key until every expected create and delete is seen', () => {
    const e = new Expectations();
    e.expect('ns/rs', 2, 1);
    expect(e.satisfied('ns/rs')).toBe(false);
    e.creationObserved('ns/rs');
    e.creationObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(false);
    e.deletionObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(true);
    expect(e.satisfied('ns/other')).toBe(true);
  });
});

describe('pod-template-hash', () => {
  it('is stable for equal templates whatever the key order, and differs for others', () => {
    const a = podTemplateHash({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const b = podTemplateHash({ spec: { containers: [{ image: 'busybox', name: 'c' }] }, metadata: { labels: { app: 'web' } } });
    expect(a).toBe(b);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(podTemplateHash({ spec: { containers: [{ name: 'c', image: 'busybox:1.35' }] } })).not.toBe(a);
    expect(podTemplateHash({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, 1)).not.toBe(a);
  });
});
