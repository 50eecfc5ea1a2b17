// An etcd member lost under load: a node's server on a three-member etcd,
// pods running and clients writing; one member is SIGKILLed mid-stream.
// Writes go on (a quorum of two remains), every write the server
// acknowledged is there afterwards, the controllers and the node keep
// working (a scale-up runs), running pods are untouched, and once the pods
// are deleted the node holds nothing of them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, RestClient, loadKubeconfig } from '../../apimachinery/index.ts';
import { NO_LEAKS, applyManifest, nodeLeaks, startTestCluster, startTestEtcd, type TestCluster, type TestEtcd } from '../../lab/testbed/index.ts';

let dir = '';
let etcd: TestEtcd | undefined;
let c: TestCluster | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-etcdlost-'));
  etcd = await startTestEtcd(join(dir, 'etcd'), 3);
  c = await startTestCluster('etcdl', 235, { serverArgs: ['--datastore-endpoint', `etcd://${etcd.endpoints.join(',')}`] });
}, 120_000);

afterAll(async () => {
  await c?.teardown();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
}, 120_000);

const WRITERS = 6;

describe('an etcd member lost under load', () => {
  it('keeps taking writes, loses none it acknowledged, keeps the node and its pods working, and leaks nothing', async () => {
    const cluster = c as TestCluster;
    await applyManifest(
      cluster,
      `
apiVersion: apps/v1
kind: Deployment
metadata: {name: steady}
spec:
  replicas: 2
  selector: {matchLabels: {app: steady}}
  template:
    metadata: {labels: {app: steady}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`,
    );
    await cluster.kubectl('rollout', 'status', 'deployment/steady', '--timeout=90s');
    const pods = () =>
      cluster.kubectl(
        'get',
        'pods',
        '-l',
        'app=steady',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}{"\\n"}{end}',
      );
    const before = await pods();

    const client = new RestClient(await loadKubeconfig(cluster.kubeconfig));
    const acknowledged: string[] = [];
    const refusals = new Map<string, number>();
    let killed = false;
    let ackedAfterKill = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = `w${w}-${i}`;
        try {
          await client.create({ resource: 'configmaps', namespace: 'default' }, { metadata: { name }, data: { i: String(i) } });
          acknowledged.push(name);
          if (killed) ackedAfterKill++;
        } catch (err) {
          // a write that fails is refused with a Status (not a dropped connection) and not counted as written
          const said = err instanceof ApiError ? `${err.code} ${err.reason}` : `no status: ${(err as Error).message}`;
          refusals.set(said, (refusals.get(said) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    try {
      await expect.poll(() => acknowledged.length, { timeout: 30_000 }).toBeGreaterThan(100);
      await (etcd as TestEtcd).kill(0);
      killed = true;
      await expect.poll(() => ackedAfterKill, { timeout: 60_000 }).toBeGreaterThan(200);
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    expect([...refusals.keys()].filter((r) => r.startsWith('no status'))).toEqual([]);
    // every acknowledged write is there
    const stored = await client.get<{ items: { metadata: { name: string } }[] }>({ resource: 'configmaps', namespace: 'default' });
    const names = new Set(stored.items.map((i) => i.metadata.name));
    expect(acknowledged.filter((n) => !names.has(n))).toEqual([]);
    client.close();

    // the controllers, the scheduler and the node go on: a scale-up runs, and the old pods were not touched
    await cluster.kubectl('scale', 'deployment', 'steady', '--replicas=3');
    await cluster.kubectl('rollout', 'status', 'deployment/steady', '--timeout=90s');
    const after = await pods();
    for (const line of before.trim().split('\n')) expect(after).toContain(line);
    expect(after.trim().split('\n')).toHaveLength(3);

    await cluster.kubectl('delete', 'deployment', 'steady');
    await expect.poll(() => cluster.kubectl('get', 'pods', '-l', 'app=steady', '-o', 'name'), { timeout: 60_000 }).toBe('');
    await expect.poll(() => nodeLeaks(cluster), { timeout: 30_000, interval: 1000 }).toEqual(NO_LEAKS);
  }, 240_000);
});
