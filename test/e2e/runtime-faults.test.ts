// Faults on a real node, each checked for leaks afterwards: containerd
// killed (SIGKILL) under running pods, then the agent killed; the pods keep
// their containers and addresses through both, and once they are deleted the
// node holds no sandbox, container, veth, IPAM address, pod cgroup or volume
// mount (a memory-backed emptyDir is one) of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_LEAKS, applyManifest, nodeLeaks, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('fault', 234);
});

afterAll(async () => {
  await c?.teardown();
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
const identities = async () =>
  c.kubectl(
    'get',
    'pods',
    '-l',
    'app=survivor',
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
});
