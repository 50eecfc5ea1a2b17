// Scheduling decisions on 100 hollow nodes (5 zones), with the real kubectl:
// spreading, taints, node affinity, hard topology spread and preemption; then
// DaemonSets and StatefulSets, whose controllers place pods through the scheduler.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopPid, waitFor } from '../../lab/index.ts';
import { SKIFF, spawnLogged } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

const NODES = 100;
const api = useTestApiServer('sk-sched-', []);
let hollow: ChildProcess | undefined;

beforeAll(async () => {
  hollow = await spawnLogged([SKIFF, 'hollow-nodes', '--count', String(NODES), '--zones', '5', '--kubeconfig', api.kubeconfig], join(api.dir, 'hollow.log'));
  await waitFor(
    '100 Ready hollow nodes',
    async () => (await api.kubectl('get', 'nodes', '--no-headers')).split('\n').filter((l) => / Ready /.test(l)).length === NODES,
    60_000,
    500,
  );
}, 120_000);

afterAll(async () => {
  if (hollow?.pid) await stopPid(hollow.pid, 20_000);
});

const deployment = (name: string, replicas: number, spec: object = {}, podCpu?: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox', ...(podCpu ? { resources: { requests: { cpu: podCpu } } } : {}) }], ...spec },
      },
    },
  });

async function apply(manifest: string): Promise<void> {
  const r = await api.kubectlResult(['apply', '-f', '-'], manifest);
  if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
}

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
  it("spreads a Deployment's replicas over the nodes", async () => {
    await apply(deployment('spread', 200));
    const perNode = tally(await runningCount('spread', 200));
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(3);
    expect(perNode.size).toBeGreaterThanOrEqual(90);
    await api.kubectl('delete', 'deployment', 'spread');
  });

  it('keeps pods off tainted nodes and on the nodes their affinity names', async () => {
    await api.kubectl('taint', 'nodes', '-l', 'skiff.dev/hollow=true', 'dedicated=batch:NoSchedule');
    await api.kubectl('taint', 'nodes', 'hollow-7', 'hollow-42', 'dedicated-');
    await apply(deployment('picky', 6));
    expect(new Set(await runningCount('picky', 6))).toEqual(new Set(['hollow-7', 'hollow-42']));
    await api.kubectl('delete', 'deployment', 'picky');
    await api.kubectl('taint', 'nodes', '-l', 'skiff.dev/hollow=true,kubernetes.io/hostname notin (hollow-7,hollow-42)', 'dedicated-');

    const zone3 = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-3'] }] }],
          },
        },
      },
    };
    await apply(deployment('zoned', 10, zone3));
    expect(new Set((await runningCount('zoned', 10)).map(zoneOf))).toEqual(new Set(['zone-3']));
    await api.kubectl('delete', 'deployment', 'zoned');
  });

  it('spreads evenly over zones under a hard topology spread constraint', async () => {
    const spread = {
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'zonal' } } },
      ],
    };
    await apply(deployment('zonal', 10, spread));
    expect([...tally((await runningCount('zonal', 10)).map(zoneOf)).values()]).toEqual([2, 2, 2, 2, 2]);
    await api.kubectl('delete', 'deployment', 'zonal');
  });

  it('preempts a lower-priority pod for a higher-priority one on a full cluster', async () => {
    await apply(JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'urgent' }, value: 1000 }));
    // 3 of each node's 4 CPUs taken by low-priority pods
    await apply(deployment('filler', NODES, {}, '3'));
    await runningCount('filler', NODES);
    await apply(deployment('vip', 1, { priorityClassName: 'urgent' }, '2'));
    const [vipNode] = await runningCount('vip', 1);
    expect(await api.kubectl('get', 'pods', '-l', 'app=vip', '-o', 'jsonpath={.items[0].spec.priority}')).toBe('1000');
    const preempted = await api.kubectl('get', 'events', '--field-selector', 'reason=Preempted', '-o', 'jsonpath={.items[*].message}');
    expect(preempted).toContain(`on node ${vipNode}`);
    // the evicted filler's replacement has nowhere to go
    await expect
      .poll(async () => api.kubectl('get', 'pods', '-l', 'app=filler', '--field-selector', 'status.phase=Pending', '-o', 'name'), { timeout: 30_000 })
      .toMatch(/pod\/filler-/);
  });
});

describe('DaemonSets and StatefulSets on 100 hollow nodes', () => {
  const daemonSet = (image: string) =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        updateStrategy: { rollingUpdate: { maxUnavailable: '20%' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image }] } },
      },
    });

  it('runs one daemon per node, keeps it through a NoSchedule taint and rolls a new image out', async () => {
    await apply(daemonSet('busybox'));
    expect(new Set(await runningCount('agent', NODES)).size).toBe(NODES);
    await api.kubectl('taint', 'node', 'hollow-3', 'maintenance=yes:NoSchedule');
    await apply(daemonSet('busybox:1.35'));
    expect(await api.kubectl('rollout', 'status', 'daemonset/agent', '--timeout=120s')).toContain('daemon set "agent" successfully rolled out');
    const images = await api.kubectl(
      'get',
      'pods',
      '-l',
      'app=agent',
      '--field-selector',
      'status.phase=Running',
      '-o',
      'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}',
    );
    expect(images.split('\n').filter((i) => i === 'busybox:1.35')).toHaveLength(NODES - 1);
    expect(await api.kubectl('get', 'ds', 'agent', '-o', 'jsonpath={.status.desiredNumberScheduled} {.status.numberAvailable}')).toBe(
      `${NODES - 1} ${NODES - 1}`,
    );
    expect(await api.kubectl('rollout', 'history', 'daemonset/agent')).toMatch(/^1\s+<none>\n2\s+<none>/m);
    await api.kubectl('taint', 'node', 'hollow-3', 'maintenance-');
    await api.kubectl('delete', 'daemonset', 'agent');
  });

  const statefulSet = (replicas: number, image = 'busybox', partition = 0) =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        replicas,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image, volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
  const podNames = async () => (await api.kubectl('get', 'pods', '-l', 'app=db', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').filter(Boolean).sort();

  it('creates ordered, stably named pods with their own claims, and updates above the partition only', async () => {
    // a pod is scheduled once its claims are bound: here to volumes made by hand (no class, no provisioner)
    for (const i of [0, 1, 2]) {
      await apply(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name: `hand-${i}` },
          spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: `/tmp/hand-${i}` } },
        }),
      );
    }
    await apply(statefulSet(3));
    expect(await api.kubectl('rollout', 'status', 'statefulset/db', '--timeout=120s')).toContain('partitioned roll out complete');
    expect(await podNames()).toEqual(['db-0', 'db-1', 'db-2']);
    expect((await api.kubectl('get', 'pvc', '-o', 'name')).split('\n').filter(Boolean).sort()).toEqual([
      'persistentvolumeclaim/data-db-0',
      'persistentvolumeclaim/data-db-1',
      'persistentvolumeclaim/data-db-2',
    ]);
    expect(
      await api.kubectl('get', 'pod', 'db-1', '-o', 'jsonpath={.spec.hostname}.{.spec.subdomain} {.spec.volumes[0].persistentVolumeClaim.claimName}'),
    ).toBe('db-1.db data-db-1');
    // db-0 started first, db-2 last
    const started = await api.kubectl('get', 'pods', '-l', 'app=db', '--sort-by=.metadata.creationTimestamp', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(started).toBe('db-0 db-1 db-2');

    await apply(statefulSet(3, 'busybox:1.35', 2));
    await expect
      .poll(
        () =>
          api.kubectl(
            'get',
            'pods',
            '-l',
            'app=db',
            '--field-selector',
            'status.phase=Running',
            '-o',
            'jsonpath={range .items[*]}{.metadata.name}={.spec.containers[0].image} {end}',
          ),
        { timeout: 60_000 },
      )
      .toBe('db-0=busybox db-1=busybox db-2=busybox:1.35 ');

    await apply(statefulSet(1, 'busybox:1.35', 2));
    await expect.poll(podNames, { timeout: 60_000 }).toEqual(['db-0']);
    // claims stay when pods go (the Retain policy)
    expect((await api.kubectl('get', 'pvc', '-o', 'name')).split('\n').filter(Boolean)).toHaveLength(3);
  });
});
