import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { computePodActions, initExitPoll } from './plan.ts';
import type { ObservedContainer, ObservedPod } from './observed.ts';

const pod = (restartPolicy: 'Always' | 'OnFailure' | 'Never', init: string[] = []): Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u' },
  spec: {
    restartPolicy,
    initContainers: init.map((name) => ({ name, image: 'busybox' })),
    containers: [
      { name: 'a', image: 'busybox' },
      { name: 'b', image: 'busybox' },
    ],
  },
});

const sandbox = (state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY' = 'SANDBOX_READY', attempt = 0) => ({
  id: `sb${attempt}`,
  attempt,
  state,
  createdAt: attempt,
  ip: state === 'SANDBOX_READY' ? '10.0.0.2' : '',
});

function c(name: string, state: ObservedContainer['state'], exitCode = 0, attempt = 0, sandboxId = 'sb0'): ObservedContainer {
  return {
    id: `${name}-${attempt}`,
    name,
    attempt,
    sandboxId,
    state,
    createdAt: attempt + 1,
    startedAt: 1,
    finishedAt: 2,
    exitCode,
    reason: '',
    message: '',
    image: 'busybox',
    imageRef: 'sha256:x',
    logPath: '',
  };
}

const observed = (containers: ObservedContainer[], sb = [sandbox()]): ObservedPod => ({ sandboxes: sb, containers });
const starts = (p: Pod, o: ObservedPod) => computePodActions(p, o).containersToStart.map((s) => `${s.name}#${s.attempt}`);

describe('computePodActions', () => {
  it('creates a sandbox and starts every container for a new pod', () => {
    const a = computePodActions(pod('Always'), { sandboxes: [], containers: [] });
    expect(a).toMatchObject({ createSandbox: true, killPod: false, sandboxAttempt: 0 });
    expect(a.containersToStart.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('starts an ephemeral container once, beside the running ones, and never again once it exited', () => {
    const debugged = { ...pod('Always'), spec: { ...pod('Always').spec, ephemeralContainers: [{ name: 'debugger', image: 'busybox' }] } } as Pod;
    const running = [c('a', 'CONTAINER_RUNNING'), c('b', 'CONTAINER_RUNNING')];
    expect(starts(debugged, observed(running))).toEqual(['debugger#0']);
    expect(starts(debugged, observed([...running, c('debugger', 'CONTAINER_EXITED', 1)]))).toEqual([]);
  });

  it('starts nothing when every container runs', () => {
    expect(starts(pod('Always'), observed([c('a', 'CONTAINER_RUNNING'), c('b', 'CONTAINER_RUNNING')]))).toEqual([]);
  });

  it.each([
    ['Always', 0, ['a#1']],
    ['Always', 1, ['a#1']],
    ['OnFailure', 0, []],
    ['OnFailure', 2, ['a#1']],
    ['Never', 1, []],
  ] as const)('restartPolicy %s restarts an exited container (exit %d): %j', (policy, exit, want) => {
    expect(starts(pod(policy), observed([c('a', 'CONTAINER_EXITED', exit), c('b', 'CONTAINER_RUNNING')]))).toEqual(want);
  });

  it('runs init containers one at a time, in order, before any container', () => {
    const p = pod('Always', ['i1', 'i2']);
    expect(starts(p, observed([]))).toEqual(['i1#0']);
    expect(starts(p, observed([c('i1', 'CONTAINER_RUNNING')]))).toEqual([]);
    expect(starts(p, observed([c('i1', 'CONTAINER_EXITED', 0)]))).toEqual(['i2#0']);
    expect(starts(p, observed([c('i1', 'CONTAINER_EXITED', 0), c('i2', 'CONTAINER_EXITED', 0)]))).toEqual(['a#0', 'b#0']);
    expect(starts(p, observed([c('i1', 'CONTAINER_EXITED', 1)]))).toEqual(['i1#1']);
  });

  it('fails the pod when an init container fails under restartPolicy Never', () => {
    const a = computePodActions(pod('Never', ['i1']), observed([c('i1', 'CONTAINER_EXITED', 1)]));
    expect(a.initFailed).toBe(true);
    expect(a.containersToStart).toEqual([]);
  });

  it('replaces a dead sandbox and starts the containers again in it', () => {
    const a = computePodActions(pod('Always'), observed([c('a', 'CONTAINER_EXITED', 137), c('b', 'CONTAINER_EXITED', 137)], [sandbox('SANDBOX_NOTREADY')]));
    expect(a).toMatchObject({ createSandbox: true, killPod: true, sandboxAttempt: 1 });
    expect(a.containersToStart.map((s) => `${s.name}#${s.attempt}`)).toEqual(['a#1', 'b#1']);
  });

  it('does not recreate the sandbox of a finished Never pod', () => {
    const a = computePodActions(pod('Never'), observed([c('a', 'CONTAINER_EXITED', 0), c('b', 'CONTAINER_EXITED', 0)], [sandbox('SANDBOX_NOTREADY')]));
    expect(a.createSandbox).toBe(false);
    expect(a.containersToStart).toEqual([]);
  });

  it('removes a container left created but never started, and starts it again', () => {
    const a = computePodActions(pod('Always'), observed([c('a', 'CONTAINER_CREATED'), c('b', 'CONTAINER_RUNNING')]));
    expect(a.containersToKill.map((x) => x.id)).toEqual(['a-0']);
    expect(a.containersToStart.map((s) => `${s.name}#${s.attempt}`)).toEqual(['a#0']);
  });

  it('runs a sidecar before the next init container, keeps it running, and restarts it when it exits', () => {
    const withSidecar: Pod = {
      ...pod('Never', ['setup']),
      spec: {
        ...pod('Never', ['setup']).spec,
        initContainers: [
          { name: 'proxy', image: 'busybox', restartPolicy: 'Always' },
          { name: 'setup', image: 'busybox' },
        ],
        containers: [
          { name: 'a', image: 'busybox' },
          { name: 'b', image: 'busybox' },
        ],
      },
    };
    expect(starts(withSidecar, observed([]))).toEqual(['proxy#0']);
    expect(starts(withSidecar, observed([c('proxy', 'CONTAINER_RUNNING')]))).toEqual(['setup#0']);
    expect(starts(withSidecar, observed([c('proxy', 'CONTAINER_RUNNING'), c('setup', 'CONTAINER_EXITED', 0)]))).toEqual(['a#0', 'b#0']);
    // under restartPolicy Never the sidecar still restarts
    expect(
      starts(
        withSidecar,
        observed([c('proxy', 'CONTAINER_EXITED', 1), c('setup', 'CONTAINER_EXITED', 0), c('a', 'CONTAINER_RUNNING'), c('b', 'CONTAINER_RUNNING')]),
      ),
    ).toEqual(['proxy#1']);
  });

  it('names the running init container the pod waits on, and looks for its exit ever later, then leaves it to the relist', () => {
    const running = c('i1', 'CONTAINER_RUNNING');
    expect(computePodActions(pod('Always', ['i1', 'i2']), observed([running])).initRunning).toBe(running);
    expect(
      computePodActions(pod('Always', ['i1']), observed([c('i1', 'CONTAINER_EXITED'), c('a', 'CONTAINER_RUNNING'), c('b', 'CONTAINER_RUNNING')])).initRunning,
    ).toBeUndefined();
    const started = { ...running, startedAt: 10_000 * 1e6 };
    expect([10_000, 10_020, 10_300, 10_999, 11_000].map((now) => initExitPoll(started, now))).toEqual([50, 50, 300, 999, undefined]);
  });
});
