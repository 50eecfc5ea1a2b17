// Node-pressure eviction: time from memory.available crossing the hard
// threshold (watched here every 20 ms) to the pod seen Evicted and the node
// seen under MemoryPressure through the API; and the agent's housekeeping
// cost with 110 pods: its whole CPU while idle, and the CPU of one round of
// the eviction manager's measurements (node figures; every pod's cgroup; every
// pod's disk) taken in this process against the same node.
import { cpus } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { RestClient, loadKubeconfig, type WatchEvent } from '../apimachinery/index.ts';
import { MANAGED_BY, PodCgroups, memoryStats, podLogDirectory, podUsage, readNodeStats } from '../agent/index.ts';
import { startTestCluster } from '../lab/testbed/index.ts';
import { rssKiB } from './rss.ts';
import { percentile } from './stats.ts';

const ROUNDS = 5;
const PODS = 110;
const Mi = 2 ** 20;
const MARGIN = 1024 * Mi;
const FILL_MIB = 2048;

const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
const emit = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, ...base })}\n`);
const log = (s: string) => process.stderr.write(`eviction bench: ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in ms. */
async function cpuMs(pid: number | undefined): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const threshold = (await memoryStats(1)).availableBytes - MARGIN;
const cluster = await startTestCluster('evbench', 211, {
  agentConfig: { evictionHard: { 'memory.available': `${Math.floor(threshold / 1024)}Ki` }, evictionPressureTransitionPeriod: '5s' },
});
try {
  const client = new RestClient(await loadKubeconfig(cluster.kubeconfig));
  const pressure = (n: Node | undefined) => n?.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status;

  const toEvicted: number[] = [];
  const toCondition: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const name = `hog-${round}`;
    const seen: { evicted?: number; condition?: number } = {};
    const stop = new AbortController();
    const pods = client.watch<Pod>(
      { resource: 'pods', namespace: 'default' },
      { fieldSelector: `metadata.name=${name}` },
      (e: WatchEvent<Pod>) => {
        if (seen.evicted === undefined && e.object.status?.reason === 'Evicted') seen.evicted = performance.now();
      },
      { signal: stop.signal },
    );
    const nodes = client.watch<Node>(
      { resource: 'nodes' },
      { fieldSelector: `metadata.name=${cluster.nodeName}` },
      (e: WatchEvent<Node>) => {
        if (seen.condition === undefined && pressure(e.object) === 'True') seen.condition = performance.now();
      },
      { signal: stop.signal },
    );
    await client.create(
      { resource: 'pods', namespace: 'default' },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'hog',
              image: 'busybox',
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', `dd if=/dev/zero of=/cache/fill bs=1M count=${FILL_MIB} && sleep 3600`],
              volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
            },
          ],
          volumes: [{ name: 'cache', emptyDir: { medium: 'Memory' } }],
        },
      },
    );
    let crossed: number | undefined;
    const deadline = Date.now() + 120_000;
    while ((seen.evicted === undefined || seen.condition === undefined) && Date.now() < deadline) {
      if (crossed === undefined && (await memoryStats(1)).availableBytes < threshold) crossed = performance.now();
      await sleep(20);
    }
    stop.abort();
    await Promise.all([pods, nodes].map((w) => w.catch(() => undefined)));
    if (crossed === undefined || seen.evicted === undefined || seen.condition === undefined)
      throw new Error(`round ${round}: crossed=${crossed} evicted=${seen.evicted} condition=${seen.condition}`);
    toEvicted.push(seen.evicted - crossed);
    toCondition.push(Math.max(0, seen.condition - crossed));
    log(`round ${round}: evicted ${Math.round(seen.evicted - crossed)} ms, condition ${Math.round(seen.condition - crossed)} ms after the crossing`);
    await client.delete({ resource: 'pods', namespace: 'default', name }, { gracePeriodSeconds: 0 });
    while (pressure(await client.get<Node>({ resource: 'nodes', name: cluster.nodeName })) !== 'False') await sleep(250);
  }
  const stat = (xs: number[]) => ({ n: xs.length, p50_ms: Math.round(percentile(xs, 50)), max_ms: Math.round(Math.max(...xs)) });
  emit({ name: 'eviction/memory-hard-threshold', crossing_to_evicted: stat(toEvicted), crossing_to_condition: stat(toCondition) });

  log(`starting ${PODS} pods`);
  const names = Array.from({ length: PODS }, (_, i) => `idle-${i}`);
  await Promise.all(
    names.map((name) =>
      client.create(
        { resource: 'pods', namespace: 'default' },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, labels: { bench: 'eviction' } },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
          },
        },
      ),
    ),
  );
  for (;;) {
    const list = await client.get<{ items: Pod[] }>({ resource: 'pods', namespace: 'default' }, { labelSelector: 'bench=eviction' });
    if (list.items.filter((p) => p.status?.phase === 'Running').length === PODS) break;
    await sleep(1000);
  }
  await sleep(10_000);
  const window = 60_000;
  const before = await cpuMs(cluster.agent.pid);
  await sleep(window);
  const used = (await cpuMs(cluster.agent.pid)) - before;
  emit({
    name: 'agent/idle-110-pods',
    cpu_percent_of_core: +((used * 100) / window).toFixed(2),
    window_s: window / 1000,
    agent_rss_kib: await rssKiB(cluster.agent.pid),
  });

  // one eviction round's measurements, as the agent takes them
  const pods = (await client.get<{ items: Pod[] }>({ resource: 'pods', namespace: 'default' }, { labelSelector: 'bench=eviction' })).items;
  const cgroups = await PodCgroups.detect(`skiff-test-${cluster.node.bridge}`);
  const src = { cgroups, podsDir: `${cluster.node.dir}/agent/pods`, logDir: (p: Pod) => podLogDirectory(p, `${cluster.node.dir}/pod-logs`) };
  const containerNames = async () =>
    new Map((await cluster.node.cri.listContainers({ labelSelector: { [MANAGED_BY]: cluster.nodeName } })).map((ct) => [ct.id, ct.metadata?.name ?? '']));
  const cost = async (fn: () => Promise<unknown>, n = 20) => {
    const t = process.cpuUsage();
    for (let i = 0; i < n; i++) await fn();
    const d = process.cpuUsage(t);
    return +((d.user + d.system) / 1000 / n).toFixed(2);
  };
  const nodeMs = await cost(() => readNodeStats({ nodefs: cluster.node.dir, imagefs: cluster.node.dir }, cgroups.version));
  // as the agent does it: one container list, then each pod in turn
  const round = async (withDisk: boolean) => {
    const names = await containerNames();
    for (const p of pods) await podUsage(src, p, names, withDisk);
  };
  const podsMs = await cost(() => round(false));
  const diskMs = await cost(() => round(true), 5);
  emit({
    name: 'eviction/round-cost-110-pods',
    node_signals_cpu_ms: nodeMs,
    pod_cgroups_cpu_ms: podsMs,
    pod_cgroups_and_disk_cpu_ms: diskMs,
    note: 'node signals are read every 1 s; pod figures only while a threshold is crossed',
  });
  await Promise.all(names.map((n) => client.delete({ resource: 'pods', namespace: 'default', name: n }, { gracePeriodSeconds: 0 }).catch(() => undefined)));
  client.close();
} finally {
  await cluster.teardown();
}
