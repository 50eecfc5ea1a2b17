// Faults on a real node, each checked for leaks afterwards: containerd
// killed (SIGKILL) under running pods, then the agent killed; the pods keep
// their containers and addresses through both, and once they are deleted the
// node holds no sandbox, container, veth, IPAM address, pod cgroup or volume
// mount (a memory-backed emptyDir is one) of them. Then the agent's root
// filesystem (a small one of the test's own) fills up: new pods fail with
// Events, running ones are untouched, and all goes on once space is freed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NO_LEAKS,
  applyManifest,
  eventsOf,
  nodeLeaks,
  smallFilesystem,
  startTestCluster,
  waitForJsonPath,
  type SmallFilesystem,
  type TestCluster,
} from '../../lab/testbed/index.ts';

let c: TestCluster;
let nodefs: SmallFilesystem | undefined;

beforeAll(async () => {
  nodefs = await smallFilesystem('fault', 64, { inodes: 4096 });
  c = await startTestCluster('fault', 234, {
    agentRootDir: nodefs.path,
    // no filesystem thresholds: the disk fills with no eviction to make room, which is the fault under test
    agentConfig: { evictionHard: { 'memory.available': '100Mi' } },
  });
});

afterAll(async () => {
  await c?.teardown();
  await nodefs?.remove();
});

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: survivor}
spec:
  replicas: 2
  selector: {matchLabels: {app: survivor}}
  template:
    metadata: {labels: {app: survivor}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox
        command: [sleep, '3600']
        volumeMounts: [{name: scratch, mountPath: /scratch}, {name: conf, mountPath: /conf}]
      volumes:
      - {name: scratch, emptyDir: {medium: Memory}}
      - {name: conf, configMap: {name: survivor}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: survivor}
data: {k: v}
`;

/** Each pod's container, address and restarts, by pod name. */
const identities = async (selector = 'app=survivor') =>
  c.kubectl(
    'get',
    'pods',
    '-l',
    selector,
    '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[0].containerID} {.status.podIP} {.status.containerStatuses[0].restartCount}{"\\n"}{end}',
  );
const ready = '{.status.conditions[?(@.type=="Ready")].status}';

describe('runtime and agent faults', () => {
  it('keeps running pods as they were through containerd and then the agent being killed', async () => {
    await applyManifest(c, DEPLOYMENT);
    await c.kubectl('rollout', 'status', 'deployment/survivor', '--timeout=90s');
    const before = await identities();
    expect(before.trim().split('\n')).toHaveLength(2);

    await c.node.stopContainerd({ kill: true });
    await waitForJsonPath(c, ['node', c.nodeName], ready, 'False');
    await c.node.startContainerd();
    await waitForJsonPath(c, ['node', c.nodeName], ready, 'True');
    expect(await identities()).toBe(before);

    await c.restartAgent({ kill: true });
    // a pod created after proves the new agent is at work before the old ones are looked at again
    await c.kubectl('scale', 'deployment', 'survivor', '--replicas=3');
    await c.kubectl('rollout', 'status', 'deployment/survivor', '--timeout=90s');
    const after = await identities();
    for (const line of before.trim().split('\n')) expect(after).toContain(line);
  });

  it('leaves nothing of the pods behind once they are deleted', async () => {
    // the checker sees what running pods hold, so an empty answer later means something
    const held = await nodeLeaks(c);
    expect([held.sandboxes.length, held.containers.length, held.veths.length, held.addresses.length, held.cgroups.length]).toEqual([3, 3, 3, 3, 3]);
    expect(held.mounts.length).toBeGreaterThanOrEqual(3);
    await c.kubectl('delete', 'deployment', 'survivor');
    await expect.poll(() => c.kubectl('get', 'pods', '-l', 'app=survivor', '-o', 'name'), { timeout: 60_000 }).toBe('');
    await expect.poll(() => nodeLeaks(c), { timeout: 30_000, interval: 1000 }).toEqual(NO_LEAKS);
  });

  it('keeps a full node of 110 running pods as they were when the agent is killed: same containers, no restarts, all Ready', async () => {
    await applyManifest(
      c,
      `
apiVersion: apps/v1
kind: Deployment
metadata: {name: full}
spec:
  replicas: 110
  selector: {matchLabels: {app: full}}
  template:
    metadata: {labels: {app: full}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`,
    );
    await c.kubectl('rollout', 'status', 'deployment/full', '--timeout=240s');
    const before = await identities('app=full');
    expect(before.trim().split('\n')).toHaveLength(110);
    const killedAt = Date.now();
    await c.restartAgent({ kill: true });
    // the new agent has taken the node over (it renewed the node's Lease), then every pod is as it was
    const renewed = async () => Date.parse(await c.kubectl('get', 'lease', '-n', 'kube-node-lease', c.nodeName, '-o', 'jsonpath={.spec.renewTime}'));
    await expect.poll(renewed, { timeout: 30_000 }).toBeGreaterThan(killedAt);
    await c.kubectl('wait', '--for=condition=Ready', 'pod', '-l', 'app=full', '--timeout=60s');
    expect(await identities('app=full')).toBe(before);
    expect(before).not.toMatch(/ [1-9]\d*$/m);
    await c.kubectl('delete', 'deployment', 'full');
    await expect.poll(() => c.kubectl('get', 'pods', '-l', 'app=full', '-o', 'name'), { timeout: 120_000 }).toBe('');
    await expect.poll(() => nodeLeaks(c), { timeout: 30_000, interval: 1000 }).toEqual(NO_LEAKS);
  }, 420_000);

  it("fails new pods with an Event while the agent's root filesystem is full, leaves running pods alone, and starts them once space is freed", async () => {
    const pod = (name: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: conf, mountPath: /conf}]}]
  volumes: [{name: conf, configMap: {name: steady}}]
`;
    await applyManifest(c, `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "steady"}, "data": {"k": "v"}}`);
    await applyManifest(c, pod('steady'));
    await waitForJsonPath(c, ['pod', 'steady'], '{.status.phase}', 'Running');
    const steady = () =>
      c.kubectl('get', 'pod', 'steady', '-o', 'jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}');
    const before = await steady();
    const free = await (nodefs as SmallFilesystem).fill();
    try {
      await applyManifest(c, pod('newcomer'));
      await expect
        .poll(() => eventsOf(c, 'newcomer'), { timeout: 30_000 })
        .toMatch(/^Failed: error making pod data directories: ENOSPC: no space left on device, mkdir '.*\/pods\/[0-9a-f-]+'$/m);
      expect(await c.kubectl('get', 'pod', 'newcomer', '-o', 'jsonpath={.status.phase}')).toBe('Pending');
      expect(await steady()).toBe(before);
      expect((await c.kubectl('exec', 'steady', '--', 'cat', '/conf/k')).trim()).toBe('v');
      expect(c.agent.exitCode).toBeNull();
    } finally {
      await free();
    }
    await waitForJsonPath(c, ['pod', 'newcomer'], '{.status.phase}', 'Running', 60_000);
    expect(await steady()).toBe(before);
    await c.kubectl('delete', 'pod', 'steady', 'newcomer');
    await expect.poll(() => nodeLeaks(c), { timeout: 30_000, interval: 1000 }).toEqual(NO_LEAKS);
  });
});
