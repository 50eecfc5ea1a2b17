// A node whose agent stops: the node lifecycle controller marks it NotReady
// and taints it, its pods are evicted once their tolerations run out, and the
// ReplicaSet's replacements run on another node (a hollow one here).
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopPid } from '../../lab/index.ts';
import { SKIFF, spawnLogged } from '../../lab/testbed/index.ts';
import { startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

const HOLLOW = 'nf-hollow-0';
let c: TestCluster;
let hollow: ChildProcess | undefined;

beforeAll(async () => {
  // the agent and hollow node renew every 10 s and 2 s; 15 s of silence makes a node Unknown
  c = await startTestCluster('nf', 204, { serverArgs: ['--node-monitor-grace-period=15s', '--node-monitor-period=1s'] });
  hollow = await spawnLogged(
    [SKIFF, 'hollow-nodes', '--count', '1', '--prefix', 'nf-hollow-', '--lease-seconds', '8', '--kubeconfig', c.kubeconfig],
    join(c.node.dir, 'hollow.log'),
  );
  await waitForJsonPath(c, ['node', HOLLOW], '{.status.conditions[?(@.type=="Ready")].status}', 'True', 30_000);
});

afterAll(async () => {
  if (hollow?.pid) await stopPid(hollow.pid, 10_000);
  await c?.teardown();
});

describe('node failure', () => {
  it('keeps a live node Ready, untainted and its pods running across control-plane outages longer than the grace period', async () => {
    await c.kubectl('run', 'steady', '--image=busybox', '--restart=Never', '--overrides={"spec":{"terminationGracePeriodSeconds":1}}', '--', 'sleep', '3600');
    await waitForJsonPath(c, ['pod', 'steady'], '{.status.phase}', 'Running');
    const containerId = await c.kubectl('get', 'pod', 'steady', '-o', 'jsonpath={.status.containerStatuses[0].containerID}');
    // down for longer than the 15 s grace period: heartbeats the server finds are stale, the agent is alive
    for (const kill of [true, false]) {
      await c.restartServer({ kill, downMs: 20_000 });
      // watched for longer than the 15 s grace period from the server's start: a node whose agent had died would be judged silent within it
      const seen = new Set<string>();
      for (let i = 0; i < 17; i++) {
        seen.add(await c.kubectl('get', 'node', c.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.spec.taints[*].key}'));
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect([...seen]).toEqual(['True/']);
    }
    expect(
      await c.kubectl(
        'get',
        'pod',
        'steady',
        '-o',
        'jsonpath={.status.phase}/{.status.containerStatuses[0].containerID}/{.status.containerStatuses[0].restartCount}',
      ),
    ).toBe(`Running/${containerId}/0`);
    expect(await c.kubectl('get', 'events', '--field-selector', 'reason=TaintManagerEviction', '-o', 'name')).toBe('');
    await c.kubectl('delete', 'pod', 'steady', '--wait=false');
  }, 180_000);

  it('marks a silent node NotReady and moves its pods to another node', async () => {
    await c.kubectl('cordon', HOLLOW);
    const applied = await c.kubectlResult(
      ['apply', '-f', '-'],
      `
apiVersion: apps/v1
kind: Deployment
metadata: {name: moving}
spec:
  replicas: 2
  selector: {matchLabels: {app: moving}}
  template:
    metadata: {labels: {app: moving}}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 3}]
      containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`,
    );
    expect(applied.code, applied.stderr).toBe(0);
    await c.kubectl('rollout', 'status', 'deployment/moving', '--timeout=60s').catch(async (err: Error) => {
      // what the pods and the node said, for a rollout that never finished
      throw new Error(`${err.message}\n${await c.kubectl('get', 'pods', '-o', 'wide')}\n${await c.kubectl('get', 'events', '--sort-by=.lastTimestamp')}`);
    });
    const nodesOfRunningPods = async () =>
      (await c.kubectl('get', 'pods', '-l', 'app=moving', '-o', 'jsonpath={range .items[?(@.status.phase=="Running")]}{.spec.nodeName}{"\\n"}{end}'))
        .split('\n')
        .filter(Boolean);
    expect(await nodesOfRunningPods()).toEqual([c.nodeName, c.nodeName]);
    await c.kubectl('uncordon', HOLLOW);

    await c.stopAgent();
    await waitForJsonPath(c, ['node', c.nodeName], '{.status.conditions[?(@.type=="Ready")].status}', 'Unknown', 60_000);
    expect(await c.kubectl('get', 'node', c.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}')).toBe('NodeStatusUnknown');
    expect(await c.kubectl('get', 'node', c.nodeName)).toMatch(/NotReady/);
    expect(await c.kubectl('get', 'node', c.nodeName, '-o', 'jsonpath={.spec.taints[*].key}')).toContain('node.kubernetes.io/unreachable');

    // evicted after their 3 s toleration, replaced on the hollow node
    await expect
      .poll(
        async () =>
          (
            await c.kubectl(
              'get',
              'pods',
              '-l',
              'app=moving',
              '-o',
              'jsonpath={range .items[?(@.status.phase=="Running")]}{.spec.nodeName}/{.metadata.deletionTimestamp}{"\\n"}{end}',
            )
          )
            .split('\n')
            .filter((l) => l === `${HOLLOW}/`).length,
        { timeout: 60_000 },
      )
      .toBe(2);
    const evictions = await c.kubectl('get', 'events', '--field-selector', 'reason=TaintManagerEviction', '-o', 'name');
    expect(evictions.trim().split('\n')).toHaveLength(2);
    // each wait above fails on its own within this
  }, 240_000);
});
