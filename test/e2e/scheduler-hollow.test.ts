// Scheduling decisions on 100 hollow nodes (5 zones), with the real kubectl:
// spreading, taints, node affinity, hard topology spread and preemption.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopPid, waitFor } from '../../lab/index.ts';
import { SKIFF, spawnLogged, startTestApiServer, type TestApiServer } from '../harness/api-server.ts';

const NODES = 100;
let dir: string;
let api: TestApiServer;
let hollow: ChildProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-sched-'));
  api = await startTestApiServer(dir);
  hollow = await spawnLogged([SKIFF, 'hollow-nodes', '--count', String(NODES), '--zones', '5', '--kubeconfig', api.kubeconfig], join(dir, 'hollow.log'));
  await waitFor('100 Ready hollow nodes', async () => (await api.kubectl('get', 'nodes', '--no-headers')).split('\n').filter((l) => / Ready /.test(l)).length === NODES, 60_000, 500);
}, 120_000);

afterAll(async () => {
  if (hollow?.pid) await stopPid(hollow.pid, 20_000);
  await api?.stop();
  if (!process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
});

const deployment = (name: string, replicas: number, spec: object = {}, podCpu?: string) => JSON.stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox', ...(podCpu ? { resources: { requests: { cpu: podCpu } } } : {}) }], ...spec } },
  },
});

/** node of every Running pod of the app */
async function nodesOf(app: string): Promise<string[]> {
  const out = await api.kubectl('get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={range .items[?(@.status.phase=="Running")]}{.spec.nodeName}{"\\n"}{end}');
  return out.split('\n').filter(Boolean);
}

async function runningCount(app: string, want: number): Promise<string[]> {
  await expect.poll(async () => (await nodesOf(app)).length, { timeout: 90_000, interval: 500 }).toBe(want);
  return nodesOf(app);
}

const zoneOf = (node: string) => `zone-${Number(node.replace('hollow-', '')) % 5}`;
const tally = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());

describe('scheduling on 100 hollow nodes', () => {
  it('spreads a Deployment\'s replicas over the nodes', async () => {
    await api.kubectlResult(['apply', '-f', '-'], deployment('spread', 200));
    const perNode = tally(await runningCount('spread', 200));
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(3);
    expect(perNode.size).toBeGreaterThanOrEqual(90);
    await api.kubectl('delete', 'deployment', 'spread');
  });

  it('keeps pods off tainted nodes and on the nodes their affinity names', async () => {
    await api.kubectl('taint', 'nodes', '-l', 'skiff.dev/hollow=true', 'dedicated=batch:NoSchedule');
    await api.kubectl('taint', 'nodes', 'hollow-7', 'hollow-42', 'dedicated-');
    await api.kubectlResult(['apply', '-f', '-'], deployment('picky', 6));
    expect(new Set(await runningCount('picky', 6))).toEqual(new Set(['hollow-7', 'hollow-42']));
    await api.kubectl('delete', 'deployment', 'picky');
    await api.kubectl('taint', 'nodes', '-l', 'skiff.dev/hollow=true,kubernetes.io/hostname notin (hollow-7,hollow-42)', 'dedicated-');

    const zone3 = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-3'] }] }] } } } };
    await api.kubectlResult(['apply', '-f', '-'], deployment('zoned', 10, zone3));
    expect(new Set((await runningCount('zoned', 10)).map(zoneOf))).toEqual(new Set(['zone-3']));
    await api.kubectl('delete', 'deployment', 'zoned');
  });

  it('spreads evenly over zones under a hard topology spread constraint', async () => {
    const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'zonal' } } }] };
    await api.kubectlResult(['apply', '-f', '-'], deployment('zonal', 10, spread));
    expect([...tally((await runningCount('zonal', 10)).map(zoneOf)).values()]).toEqual([2, 2, 2, 2, 2]);
    await api.kubectl('delete', 'deployment', 'zonal');
  });

  it('preempts a lower-priority pod for a higher-priority one on a full cluster', async () => {
    await api.kubectlResult(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'urgent' }, value: 1000 }));
    // 3 of each node's 4 CPUs taken by low-priority pods
    await api.kubectlResult(['apply', '-f', '-'], deployment('filler', NODES, {}, '3'));
    await runningCount('filler', NODES);
    await api.kubectlResult(['apply', '-f', '-'], deployment('vip', 1, { priorityClassName: 'urgent' }, '2'));
    const [vipNode] = await runningCount('vip', 1);
    expect(await api.kubectl('get', 'pods', '-l', 'app=vip', '-o', 'jsonpath={.items[0].spec.priority}')).toBe('1000');
    const preempted = await api.kubectl('get', 'events', '--field-selector', 'reason=Preempted', '-o', 'jsonpath={.items[*].message}');
    expect(preempted).toContain(`on node ${vipNode}`);
    // the evicted filler's replacement has nowhere to go
    await expect.poll(async () => api.kubectl('get', 'pods', '-l', 'app=filler', '--field-selector', 'status.phase=Pending', '-o', 'name'), { timeout: 30_000 }).toMatch(/pod\/filler-/);
  });
});
