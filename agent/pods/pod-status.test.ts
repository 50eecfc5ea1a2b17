import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { computePodStatus } from './pod-status.ts';
import type { ObservedContainer, ObservedPod } from './observed.ts';

const NOW = new Date('2026-11-21T10:00:00Z');
const pod = (restartPolicy: string, status: Pod['status'] = { phase: 'Pending' }): Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u' },
  spec: { restartPolicy, containers: [{ name: 'a', image: 'busybox' }] },
  status,
});

function c(state: ObservedContainer['state'], exitCode = 0, attempt = 0): ObservedContainer {
  return {
    id: `id${attempt}`,
    name: 'a',
    attempt,
    sandboxId: 's',
    state,
    createdAt: 1e18,
    startedAt: 1.7e18,
    finishedAt: 1.8e18,
    exitCode,
    reason: '',
    message: '',
    image: 'docker.io/library/busybox:latest',
    imageRef: 'docker.io/library/busybox@sha256:ab',
    logPath: '',
  };
}

const observed = (containers: ObservedContainer[], ready = true): ObservedPod => ({
  sandboxes: [{ id: 's', attempt: 0, state: ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY', createdAt: 0, ip: ready ? '10.244.0.5' : '' }],
  containers,
});

const status = (p: Pod, o: ObservedPod, waiting: [string, { reason: string; message?: string }][] = []) =>
  computePodStatus({ pod: p, observed: o, waiting: new Map(waiting), hostIP: '192.0.2.2', runtimeName: 'containerd', now: NOW });

describe('computePodStatus', () => {
  it("gives a pod on the host's network the host's address", () => {
    const onHost: Pod = { ...pod('Always'), spec: { ...pod('Always').spec, containers: [{ name: 'a', image: 'busybox' }], hostNetwork: true } };
    const s = status(onHost, { ...observed([c('CONTAINER_RUNNING')]), sandboxes: [{ id: 's', attempt: 0, state: 'SANDBOX_READY', createdAt: 0, ip: '' }] });
    expect([s.podIP, s.podIPs]).toEqual(['192.0.2.2', [{ ip: '192.0.2.2' }]]);
    expect(status(pod('Always'), observed([c('CONTAINER_RUNNING')])).podIP).toBe('10.244.0.5');
  });

  it('reports a running pod as Running and Ready with its IP', () => {
    const s = status(pod('Always'), observed([c('CONTAINER_RUNNING')]));
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('10.244.0.5');
    expect(s.containerStatuses?.[0]).toMatchObject({
      ready: true,
      started: true,
      restartCount: 0,
      containerID: 'containerd://id0',
      imageID: 'docker.io/library/busybox@sha256:ab',
    });
    expect(Object.fromEntries((s.conditions ?? []).map((x) => [x.type, x.status]))).toEqual({
      PodReadyToStartContainers: 'True',
      Initialized: 'True',
      Ready: 'True',
      ContainersReady: 'True',
    });
  });

  it.each([
    ['Never', 0, 'Succeeded'],
    ['Never', 1, 'Failed'],
    ['OnFailure', 0, 'Succeeded'],
    ['Always', 0, 'Running'],
  ])('restartPolicy %s with exit %d gives phase %s', (policy, exit, phase) => {
    expect(status(pod(policy), observed([c('CONTAINER_EXITED', exit)])).phase).toBe(phase);
  });

  it('shows Completed and PodCompleted for a pod that succeeded', () => {
    const s = status(pod('Never'), observed([c('CONTAINER_EXITED', 0)], false));
    expect(s.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(s.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(s.podIP).toBeUndefined();
  });

  it('shows CrashLoopBackOff with the last termination while backing off', () => {
    const s = status(pod('Always'), observed([c('CONTAINER_EXITED', 2, 3)]), [['a', { reason: 'CrashLoopBackOff', message: 'back-off 40s' }]]);
    const cs = s.containerStatuses?.[0];
    expect(cs?.state?.waiting).toEqual({ reason: 'CrashLoopBackOff', message: 'back-off 40s' });
    expect(cs?.lastState?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(cs?.restartCount).toBe(3);
    expect(s.phase).toBe('Running');
  });

  it('keeps a pod Pending with the waiting reason while its image cannot be pulled', () => {
    const s = status(pod('Always'), observed([]), [['a', { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' }]]);
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ImagePullBackOff');
  });

  it('never moves a terminal phase back', () => {
    expect(status(pod('Always', { phase: 'Failed' }), observed([c('CONTAINER_RUNNING')])).phase).toBe('Failed');
  });

  it('keeps lastTransitionTime while a condition does not change', () => {
    const earlier = '2026-11-21T09:00:00Z';
    const p = pod('Always', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: earlier }] });
    expect(status(p, observed([c('CONTAINER_RUNNING')])).conditions?.find((x) => x.type === 'Ready')?.lastTransitionTime).toBe(earlier);
  });

  it("keeps a pod with ready containers unready until every readiness gate's condition is True", () => {
    const gated = (conditions: { type: string; status: string }[]) =>
      ({
        ...pod('Always', { phase: 'Running', conditions }),
        spec: { ...pod('Always').spec, readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] },
      }) as Pod;
    const ready = (p: Pod) => status(p, observed([c('CONTAINER_RUNNING')])).conditions?.find((x) => x.type === 'Ready');
    expect(ready(gated([{ type: 'example.com/lb', status: 'False' }]))).toMatchObject({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message:
        'the status of pod readiness gate "example.com/lb" is not "True", but False, corresponding condition of pod readiness gate "example.com/dns" does not exist.',
    });
    const open = ready(
      gated([
        { type: 'example.com/lb', status: 'True' },
        { type: 'example.com/dns', status: 'True' },
      ]),
    );
    expect(open?.status).toBe('True');
    expect(open?.reason).toBeUndefined();
    // the containers' own unreadiness is what a pod that is not running shows
    const s = status(gated([]), observed([]));
    expect(s.conditions?.find((x) => x.type === 'Ready')?.reason).toBe('ContainersNotReady');
    expect(s.conditions?.find((x) => x.type === 'ContainersReady')?.status).toBe('False');
  });
});
