import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { PodStartTracker, type PodStarted, type StartPhase } from './pod-start.ts';

function setup() {
  let now = Date.parse('2026-01-01T00:00:10Z');
  const started: PodStarted[] = [];
  const phases: [StartPhase, number][] = [];
  const tracker = new PodStartTracker({ now: () => now, started: (t) => started.push(t), phase: (p, s) => phases.push([p, s]) });
  return { tracker, started, phases, advance: (ms: number) => (now += ms) };
}

const pod = (uid: string, extra: Partial<Pod['spec']> = {}, status: PodStatus = {}): Pod => ({
  metadata: { uid, name: uid, namespace: 'default', creationTimestamp: '2026-01-01T00:00:08Z' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra },
  status,
});
const running: PodStatus = {
  phase: 'Running',
  containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { running: {} } }],
};
const ready: PodStatus = { ...running, conditions: [{ type: 'Ready', status: 'True' }] };

describe('pod start-up tracking', () => {
  it("measures a pod's first start from its sighting and its creation, less its image pulls, then readiness", () => {
    const { tracker, started, phases, advance } = setup();
    tracker.seen(pod('a'));
    advance(100);
    tracker.syncing('a');
    tracker.phase('a', 'network', 0.2);
    tracker.phase('a', 'sandbox', 0.5);
    tracker.phase('a', 'pull', 1.5);
    advance(2900);
    tracker.status('a', {
      phase: 'Pending',
      containerStatuses: [{ name: 'c', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: {} } }],
    });
    expect(started).toEqual([]);
    tracker.status('a', running);
    // seen at 10 s, running at 13 s; created at 8 s; 1.5 s pulling
    expect(started).toEqual([{ sinceSeen: 3, sinceCreated: 5, sli: 3.5, firstWithNetwork: true }]);
    advance(700);
    tracker.status('a', ready);
    // the sandbox's own time is what its network did not take
    expect(phases).toEqual([
      ['admit', 0.1],
      ['network', 0.2],
      ['sandbox', 0.3],
      ['pull', 1.5],
      ['ready', 0.7],
    ]);
    // followed no further: a restart is no start
    tracker.status('a', running);
    tracker.phase('a', 'start', 1);
    expect(started).toHaveLength(1);
    expect(phases).toHaveLength(5);
  });

  it('calls only the first pod with a network of its own the first, and skips pods that had started before', () => {
    const { tracker, started } = setup();
    tracker.seen(pod('host', { hostNetwork: true }));
    tracker.status('host', running);
    tracker.seen(pod('b'));
    tracker.status('b', running);
    tracker.seen(pod('c'));
    tracker.status('c', running);
    tracker.seen(pod('old', {}, { startTime: '2026-01-01T00:00:00Z' }));
    tracker.status('old', running);
    expect(started.map((t) => t.firstWithNetwork)).toEqual([false, true, false]);
  });

  it('forgets pods that end or go before they started', () => {
    const { tracker, started, phases } = setup();
    tracker.seen(pod('job'));
    tracker.status('job', { phase: 'Succeeded', containerStatuses: [] });
    tracker.status('job', running);
    tracker.seen(pod('gone'));
    tracker.forget('gone');
    tracker.syncing('gone');
    expect(started).toEqual([]);
    expect(phases).toEqual([]);
  });
});
