// The agent's pod path against a real containerd and the real CNI plugins:
// PodSyncer runs pods as the agent does, without an API server.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../apimachinery/index.ts';
import { PodSyncer, newPodMemory } from '../../agent/pods/index.ts';
import { PodCgroups } from '../../agent/stats/index.ts';
import { startTestNode, type TestNode } from '../../lab/testbed/index.ts';
import { syncUntil } from '../harness/index.ts';

const run = promisify(execFile);

interface Recorded {
  pod: string;
  type: string;
  reason: string;
  message: string;
}

let node: TestNode;
let stopDelegate: () => Promise<void>;
let syncer: PodSyncer;
let cgroups: PodCgroups;
const events: Recorded[] = [];

function pod(name: string, spec: Partial<PodSpec> & { containers: PodSpec['containers'] }): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'itest', uid: `uid-${name}-${Math.random().toString(16).slice(2, 8)}` },
    spec: {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 1,
      ...spec,
      containers: spec.containers.map((c) => ({ imagePullPolicy: 'IfNotPresent', ...c })),
    },
    status: { phase: 'Pending' },
  };
}

async function vethsOnBridge(): Promise<string> {
  const { stdout } = await run('ip', ['-br', 'link', 'show', 'master', node.bridge]).catch(() => ({ stdout: '' }));
  return stdout.trim();
}

async function allocatedIps(): Promise<string[]> {
  const dirs = await readdir(node.ipamDir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const d of dirs) out.push(...(await readdir(join(node.ipamDir, d))).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)));
  return out;
}

beforeAll(async () => {
  node = await startTestNode('runtime', 201);
  stopDelegate = await node.serveDelegate();
  // a cgroup root of this test's own, removed at the end
  cgroups = await PodCgroups.detect(`skiff-itest-${node.bridge}`);
  syncer = new PodSyncer({
    cri: node.cri,
    env: {
      nodeName: 'itest-node',
      hostIP: '127.0.0.1',
      clusterDNS: [],
      clusterDomain: 'cluster.local',
      hostDns: { servers: [], searches: [], options: [] },
      podLogsDir: join(node.dir, 'logs'),
    },
    runtimeName: 'containerd',
    podsDir: join(node.dir, 'pods'),
    events: (p) => (type, reason, message) => events.push({ pod: p.metadata?.name ?? '', type, reason, message }),
    // no API server here: pods in this test name no ConfigMaps or Secrets
    objects: { configMap: async () => undefined, secret: async () => undefined },
    cgroups,
    log: silentLogger,
  });
});

afterAll(async () => {
  await stopDelegate?.();
  await node?.teardown();
  await cgroups?.removeAll();
  // nothing of the node is left: no bridge, no veth
  const { stdout } = await run('ip', ['-br', 'link']);
  expect(stdout).not.toContain(node.bridge);
});

describe('pods on a real containerd with real CNI', () => {
  it('runs a container to completion and reports its exit code and log', async () => {
    const p = pod('exit3', {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hello from the pod; exit 3'] }],
    });
    const memory = newPodMemory();
    const status = await syncUntil(syncer, p, memory, (s) => s.phase === 'Failed');
    const c = status.containerStatuses?.[0];
    expect(c?.state?.terminated?.exitCode).toBe(3);
    expect(c?.state?.terminated?.reason).toBe('Error');
    expect(c?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(c?.imageID).toMatch(/busybox@sha256:/);
    expect(status.podIP).toMatch(/^10\.244\.201\.\d+$/);
    const observed = await syncer.observe(p.metadata?.uid ?? '');
    const log = await readFile(observed.containers[0]?.logPath ?? '', 'utf8');
    expect(log).toMatch(/ stdout F hello from the pod\n/);
    // a finished pod gives its address back
    expect(observed.sandboxes[0]?.state).toBe('SANDBOX_NOTREADY');
    expect(await allocatedIps()).not.toContain(status.podIP);
    await syncer.remove(p.metadata?.uid ?? '', p);
    expect(events.filter((e) => e.pod === 'exit3').map((e) => e.reason)).toEqual(expect.arrayContaining(['Pulled', 'Created', 'Started']));
  });

  it('gives a running pod an address on the bridge and tears its network down on delete', async () => {
    const p = pod('web', { containers: [{ name: 'web', image: 'busybox', command: ['httpd', '-f', '-p', '8080'] }] });
    const memory = newPodMemory();
    const status = await syncUntil(syncer, p, memory, (s) => s.phase === 'Running' && s.containerStatuses?.[0]?.ready === true);
    const ip = status.podIP as string;
    expect(ip).toMatch(/^10\.244\.201\.\d+$/);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(await allocatedIps()).toContain(ip);
    expect(await vethsOnBridge()).not.toBe('');
    // the pod answers on its address (busybox httpd: 404 for a missing index)
    const res = await fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(404);
    // the pod runs in its own cgroup below kubepods/besteffort, which counts its memory and processes
    const cgroup = cgroups.parentOf(p);
    expect(cgroup).toMatch(/\/kubepods\/besteffort\/poduid-web-/);
    const usage = await cgroups.usage(cgroup);
    expect(usage?.processes).toBeGreaterThanOrEqual(2); // pause and httpd
    expect(usage?.memoryWorkingSet).toBeGreaterThan(0);
    expect((await cgroups.containers(cgroup)).length).toBe(2);

    const final = await syncer.terminate(p, 1, memory);
    expect(final.containerStatuses?.[0]?.state?.terminated).toBeDefined();
    await syncer.remove(p.metadata?.uid ?? '', p);
    expect(await node.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': p.metadata?.uid ?? '' } })).toEqual([]);
    expect(await vethsOnBridge()).toBe('');
    expect(await allocatedIps()).not.toContain(ip);
    expect(await cgroups.usage(cgroup)).toBeUndefined();
  });

  it('reports ErrImagePull then ImagePullBackOff for an image that does not exist', async () => {
    const p = pod('ghost', { containers: [{ name: 'c', image: 'no-such-image:1.0' }] });
    const memory = newPodMemory();
    const first = await syncer.sync(p, memory);
    expect(first.status.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ErrImagePull');
    expect(first.requeue).toMatchObject({ reason: 'ContainerBackOff' });
    expect(first.requeue?.afterMs).toBeGreaterThan(0);
    const second = await syncer.sync(p, memory);
    expect(second.status.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ImagePullBackOff');
    expect(second.status.phase).toBe('Pending');
    const failed = events.find((e) => e.pod === 'ghost' && e.reason === 'Failed');
    expect(failed?.message).toMatch(/Failed to pull image "no-such-image:1.0"/);
    await syncer.remove(p.metadata?.uid ?? '', p);
  });

  it('reports a command that is not in the image, and restarts it with back-off', async () => {
    const p = pod('nocmd', { containers: [{ name: 'c', image: 'busybox', command: ['/no/such/binary'] }] });
    const memory = newPodMemory();
    const first = await syncer.sync(p, memory);
    const failed = events.find((e) => e.pod === 'nocmd' && e.reason === 'Failed');
    expect(failed?.message).toMatch(/no such file or directory|not found/);
    const c = first.status.containerStatuses?.[0];
    expect(c?.state?.waiting?.reason ?? c?.state?.terminated?.reason).toMatch(/RunContainerError|StartError/);
    const again = await syncer.sync(p, memory);
    expect(again.status.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(again.status.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(128);
    expect(again.status.phase).toBe('Running');
    await syncer.remove(p.metadata?.uid ?? '', p);
  });
});
