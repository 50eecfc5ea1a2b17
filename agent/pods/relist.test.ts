import { describe, expect, it } from 'vitest';
import type { Container, CriClient, PodSandbox } from '../cri/index.ts';
import { Relister } from './relist.ts';
import { POD_UID } from './runtime-labels.ts';

describe('Relister', () => {
  it('reports a pod whose runtime state changed, unless its own sync already saw that state', async () => {
    const sandboxes = [{ id: 's1', state: 'SANDBOX_READY', labels: { [POD_UID]: 'u' } }] as unknown as PodSandbox[];
    const containers: Container[] = [];
    const cri = { listPodSandbox: async () => sandboxes, listContainers: async () => containers } as unknown as CriClient;
    const relister = new Relister({ cri, nodeName: 'node' });
    expect((await relister.relist()).changed).toEqual(['u']);
    expect((await relister.relist()).changed).toEqual([]);
    // the pod's sync started a container and observed it running
    containers.push({ id: 'c1', state: 'CONTAINER_RUNNING', labels: { [POD_UID]: 'u' } } as unknown as Container);
    relister.note('u', {
      sandboxes: [{ id: 's1', attempt: 0, state: 'SANDBOX_READY', createdAt: 0, ip: '' }],
      containers: [{ id: 'c1', state: 'CONTAINER_RUNNING' }] as never,
    });
    expect((await relister.relist()).changed).toEqual([]);
    // then the container exits on its own
    (containers[0] as Container).state = 'CONTAINER_EXITED';
    expect((await relister.relist()).changed).toEqual(['u']);
    expect(relister.present()).toEqual(new Set(['u']));
    // the pod is gone from the runtime: the orphan sweep no longer spares it
    sandboxes.length = 0;
    containers.length = 0;
    expect((await relister.relist()).changed).toEqual(['u']);
    expect(relister.present()).toEqual(new Set());
  });
});

describe('Relister counts', () => {
  it('tells what each relist found: ready sandboxes, containers by state, and their names', async () => {
    const sandboxes = [
      { id: 's1', state: 'SANDBOX_READY', labels: { [POD_UID]: 'u' } },
      { id: 's2', state: 'SANDBOX_NOTREADY', labels: { [POD_UID]: 'v' } },
    ] as unknown as PodSandbox[];
    const containers = ['CONTAINER_RUNNING', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_CREATED'].map(
      (state, i) => ({ id: `c${i}`, state, labels: { [POD_UID]: 'u' }, metadata: { name: `n${i}`, attempt: 0 } }) as unknown as Container,
    );
    const cri = { listPodSandbox: async () => sandboxes, listContainers: async () => containers } as unknown as CriClient;
    const seen: unknown[] = [];
    const relister = new Relister({ cri, nodeName: 'node', relisted: (seconds, counts) => seen.push({ timed: seconds >= 0, counts }) });
    await relister.relist();
    expect(seen).toEqual([{ timed: true, counts: { readyPods: 1, containers: { created: 1, running: 2, exited: 1, unknown: 0 } } }]);
    // and keeps the containers' names, for whoever needs them without asking the runtime
    expect(relister.containerNames().get('c2')).toBe('n2');
  });
});
