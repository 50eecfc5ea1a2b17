import { describe, expect, it } from 'vitest';
import type { Container, ContainerStatus, CriClient, PodSandbox, PodSandboxStatus } from '../cri/index.ts';
import { RuntimeObserver } from './observe.ts';
import { CONTAINER_NAME, POD_UID } from './runtime-labels.ts';

/** A runtime holding one pod, counting the detail calls the observer makes. */
function runtime() {
  const calls: string[] = [];
  const sandboxes: PodSandbox[] = [
    {
      id: 's1',
      metadata: { name: 'p', namespace: 'ns', uid: 'u', attempt: 0 },
      state: 'SANDBOX_READY',
      createdAt: 1,
      labels: { [POD_UID]: 'u' },
      annotations: {},
      runtimeHandler: '',
    } as PodSandbox,
  ];
  const containers: Container[] = [];
  const statuses = new Map<string, ContainerStatus>();
  const cri = {
    listPodSandbox: async () => sandboxes,
    listContainers: async () => containers,
    podSandboxStatus: async (id: string) => {
      calls.push(`sandbox ${id}`);
      return { ...sandboxes.find((s) => s.id === id), network: { ip: `10.0.0.${id.slice(1)}`, additionalIps: [] } } as PodSandboxStatus;
    },
    containerStatus: async (id: string) => {
      calls.push(`container ${id}`);
      return statuses.get(id) as ContainerStatus;
    },
  } as unknown as CriClient;
  const setContainer = (id: string, state: ContainerStatus['state'], exitCode = 0) => {
    const listed = containers.find((c) => c.id === id);
    if (listed) listed.state = state;
    else
      containers.push({
        id,
        podSandboxId: 's1',
        metadata: { name: 'c', attempt: 0 },
        state,
        createdAt: 2,
        labels: { [POD_UID]: 'u', [CONTAINER_NAME]: 'c' },
      } as unknown as Container);
    statuses.set(id, {
      id,
      state,
      createdAt: 2,
      startedAt: 3,
      finishedAt: state === 'CONTAINER_EXITED' ? 4 : 0,
      exitCode,
      reason: '',
      message: '',
      imageRef: 'img',
      logPath: 'c/0.log',
      image: { image: 'busybox' },
    } as ContainerStatus);
  };
  return { cri, calls, sandboxes, setContainer };
}

describe('RuntimeObserver', () => {
  it("asks for a container's status again only when its state changed, and for a sandbox's IP once", async () => {
    const r = runtime();
    const observer = new RuntimeObserver(r.cri);
    r.setContainer('c1', 'CONTAINER_RUNNING');
    expect((await observer.observe('u')).containers[0]).toMatchObject({ state: 'CONTAINER_RUNNING', startedAt: 3 });
    expect((await observer.observe('u')).sandboxes[0]?.ip).toBe('10.0.0.1');
    expect(r.calls).toEqual(['sandbox s1', 'container c1']);
    r.setContainer('c1', 'CONTAINER_EXITED', 2);
    expect((await observer.observe('u')).containers[0]).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 2, finishedAt: 4 });
    await observer.observe('u');
    expect(r.calls).toEqual(['sandbox s1', 'container c1', 'container c1']);
  });

  it("takes a new sandbox's IP from its own status, and that sandbox is the pod's newest", async () => {
    const r = runtime();
    const observer = new RuntimeObserver(r.cri);
    const before = await observer.observe('u');
    r.sandboxes.unshift({ ...r.sandboxes[0], id: 's2', metadata: { name: 'p', namespace: 'ns', uid: 'u', attempt: 1 }, createdAt: 5 } as PodSandbox);
    const after = await observer.withNewSandbox('u', before, 's2');
    expect(after.sandboxes.map((s) => [s.id, s.attempt, s.ip])).toEqual([
      ['s2', 1, '10.0.0.2'],
      ['s1', 0, ''],
    ]);
    // the next observation lists both and knows s2's IP already
    expect((await observer.observe('u')).sandboxes[0]).toMatchObject({ id: 's2', ip: '10.0.0.2' });
    expect(r.calls).toEqual(['sandbox s1', 'sandbox s2']);
  });
});
