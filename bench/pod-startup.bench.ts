// Pod start-up latency (the Kubernetes pod-startup SLI: creation to Running,
// observed via watch) for 30 pods one at a time, against the floor: the same
// sandbox + container started directly through CRI, in turns with the pods.
// Bursts of 30 and of 110 pods (a full node) to all Running, against the
// burst floor: as many starts sent to CRI at once, in turns with the pods'
// bursts (two rounds each).
// Also the resident memory of server and agent (and the two together), idle,
// with 30 pods and with 110, and the time and size of a scrape of the agent's
// metrics with 110 pods.
import { Agent } from 'node:https';
import { cpus } from 'node:os';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { RestClient, loadKubeconfig, type ClientConfig, type WatchEvent } from '../apimachinery/index.ts';
import { scrape } from './client.ts';
import { startTestCluster } from '../lab/testbed/index.ts';
import { rssKiB } from './rss.ts';
import { summary } from './stats.ts';

const N = 30;

const podSpec = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { bench: 'pod-startup' } },
  spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
});

/** No step of the bench takes this long unless something is stuck: it fails then, naming what it waited for. */
const STEP_LIMIT_MS = 5 * 60_000;

function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms / 1000} s for ${what}`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

const isRunning = (p: Pod) => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.ready);

/**
 * Creates `names` (all at once when burst) and resolves each one's
 * creation→Running latency; `before(i)` runs ahead of each sequential create.
 */
async function startPods(client: RestClient, names: string[], burst: boolean, before?: (i: number) => Promise<void>): Promise<number[]> {
  const started = new Map<string, number>();
  const latencies = new Map<string, number>();
  const stop = new AbortController();
  let waiter: (() => void) | undefined;
  const watching = client.watch<Pod>(
    { resource: 'pods', namespace: 'default' },
    { labelSelector: 'bench=pod-startup' },
    (e: WatchEvent<Pod>) => {
      const name = e.object.metadata?.name ?? '';
      const t0 = started.get(name);
      if (t0 !== undefined && !latencies.has(name) && isRunning(e.object)) {
        latencies.set(name, performance.now() - t0);
        waiter?.();
      }
    },
    { signal: stop.signal },
  );
  // a watch that ends (or pods that never run) fails the run with its reason instead of leaving it waiting
  let ended: ((err: Error) => void) | undefined;
  void watching.then(
    () => ended?.(new Error('the watch of the bench pods ended before they all ran')),
    (err: Error) => ended?.(err),
  );
  const until = (pred: () => boolean) =>
    within(
      STEP_LIMIT_MS,
      `pods ${names.filter((n) => !latencies.has(n)).join(' ')} to run`,
      new Promise<void>((resolve, reject) => {
        ended = reject;
        if (pred()) return resolve();
        waiter = () => pred() && resolve();
      }),
    );
  if (burst) {
    await Promise.all(
      names.map(async (n) => {
        started.set(n, performance.now());
        await client.create({ resource: 'pods', namespace: 'default' }, podSpec(n));
      }),
    );
    await until(() => latencies.size === names.length);
  } else {
    for (const [i, n] of names.entries()) {
      await before?.(i);
      started.set(n, performance.now());
      await client.create({ resource: 'pods', namespace: 'default' }, podSpec(n));
      await until(() => latencies.has(n));
    }
  }
  ended = undefined;
  stop.abort();
  await watching.catch(() => undefined);
  return names.map((n) => latencies.get(n) as number);
}

async function deleteAll(client: RestClient, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => client.delete({ resource: 'pods', namespace: 'default', name: n }, { gracePeriodSeconds: 0 }).catch(() => undefined)));
  for (;;) {
    const list = await client.get<{ items: Pod[] }>({ resource: 'pods', namespace: 'default' }, { labelSelector: 'bench=pod-startup' });
    if (list.items.length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The floor: sandbox + container through CRI directly, on the same containerd
 * and CNI, left running as the pods are (each start costs the runtime more
 * with more containers running: ~20 ms at 30 here). Its starts are taken in
 * turns with the pods' (one floor start before each pod), so a host whose
 * speed drifts during the run (this one's moves by tens of ms between
 * minutes) weighs on both alike.
 */
function floor(cluster: Awaited<ReturnType<typeof startTestCluster>>) {
  const cri = cluster.node.cri;
  const times: number[] = [];
  const sandboxes: string[] = [];
  let image: string | undefined;
  /** One sandbox + container start, its latency counted from `t0` (now, unless a burst began earlier). */
  const start = async (name: string, t0 = performance.now()): Promise<number> => {
    image ??= await cri.pullImage('busybox');
    const config = {
      metadata: { name, namespace: 'bench', uid: `${name}-${Date.now()}`, attempt: 0 },
      logDirectory: `${cluster.node.dir}/floor-logs/${name}`,
    };
    const sb = await cri.runPodSandbox(config);
    sandboxes.push(sb);
    const c = await cri.createContainer(sb, { metadata: { name: 'c', attempt: 0 }, image: { image }, command: ['sleep', '3600'], logPath: 'c.log' }, config);
    await cri.startContainer(c);
    return performance.now() - t0;
  };
  return {
    times,
    async startOne(i: number): Promise<void> {
      times.push(await within(STEP_LIMIT_MS, 'a CRI start', start(`floor-${i}`)));
    },
    /** `n` starts sent at once: each one's latency from the moment they were sent. */
    async burst(n: number, round: number): Promise<number[]> {
      image ??= await cri.pullImage('busybox');
      const t0 = performance.now();
      return within(STEP_LIMIT_MS, `${n} CRI starts`, Promise.all(Array.from({ length: n }, (_, i) => start(`floor-b${n}-${round}-${i}`, t0))));
    },
    async removeAll(): Promise<void> {
      for (const sb of sandboxes.splice(0)) {
        await cri.stopPodSandbox(sb);
        await cri.removePodSandbox(sb);
      }
    },
  };
}

/** Bursts of `n` pods and of `n` raw CRI starts, in turns, `rounds` times each; the memory with the pods of the first round up. */
async function burstAgainstFloor(client: RestClient, raw: ReturnType<typeof floor>, n: number, rounds: number, measureLoaded: () => Promise<void>) {
  const pods: number[] = [];
  const floors: number[] = [];
  const podAll: number[] = [];
  const floorAll: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const f = await raw.burst(n, round);
    await raw.removeAll();
    const names = Array.from({ length: n }, (_, i) => `burst${n}-${round}-${i}`);
    const p = await startPods(client, names, true);
    if (round === 0) await measureLoaded();
    await deleteAll(client, names);
    floors.push(...f);
    pods.push(...p);
    floorAll.push(Math.max(...f));
    podAll.push(Math.max(...p));
  }
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const podS = summary(pods);
  return {
    name: `pod-startup/burst-${n}`,
    ...podS,
    all_running_ms: mean(podAll),
    floor_all_ms: mean(floorAll),
    floor_p50_ms: summary(floors).p50_ms,
    ratio_all_to_floor: +(mean(podAll) / mean(floorAll)).toFixed(2),
    ratio_p50_to_floor: +(podS.p50_ms / summary(floors).p50_ms).toFixed(2),
  };
}

/** How long the agent's /metrics and /metrics/cadvisor take to scrape (through the API server's node proxy, as Prometheus asks) and how big they are. */
async function scrapeFigures(cfg: ClientConfig, nodeName: string): Promise<Record<string, number>> {
  // the containers are read every 10 s: one reading with every pod up first
  await new Promise((r) => setTimeout(r, 11_000));
  const agent = new Agent({ keepAlive: true });
  const out: Record<string, number> = {};
  for (const [label, path] of [
    ['metrics', '/metrics'],
    ['cadvisor', '/metrics/cadvisor'],
  ] as const) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const r = await scrape(cfg, agent, `/api/v1/nodes/${nodeName}/proxy${path}`);
      if (r.status !== 200) throw new Error(`scrape of ${path} failed: ${r.status}`);
      times.push(performance.now() - started);
      bytes = Buffer.byteLength(r.text);
    }
    const s = summary(times);
    out[`${label}_p50_ms`] = s.p50_ms;
    out[`${label}_p99_ms`] = s.p99_ms;
    out[`${label}_bytes`] = bytes;
  }
  agent.destroy();
  return out;
}

const cluster = await startTestCluster('bench', 210);
try {
  const cfg = await loadKubeconfig(cluster.kubeconfig);
  const client = new RestClient(cfg);
  const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
  // warm-up: the image is pulled once and every path is taken before measuring
  await startPods(client, ['warm'], false);
  await deleteAll(client, ['warm']);
  await new Promise((r) => setTimeout(r, 2000));
  const memory = async () => {
    const [server, agent] = [await rssKiB(cluster.server.pid), await rssKiB(cluster.agent.pid)];
    return { server_rss_kib: server, agent_rss_kib: agent, total_rss_kib: server + agent };
  };
  const idle = await memory();

  const raw = floor(cluster);
  const seqNames = Array.from({ length: N }, (_, i) => `seq-${i}`);
  const seq = await startPods(client, seqNames, false, (i) => raw.startOne(i));
  const floorMs = raw.times;
  await raw.removeAll();
  await deleteAll(client, seqNames);
  let loaded = {};
  const burst30 = await burstAgainstFloor(client, raw, N, 2, async () => {
    await new Promise((r) => setTimeout(r, 2000));
    loaded = await memory();
  });
  let scrapes = {};
  let full = {};
  const burst110 = await burstAgainstFloor(client, raw, 110, 2, async () => {
    scrapes = await scrapeFigures(cfg, cluster.nodeName);
    full = await memory();
  });
  client.close();

  const floorS = summary(floorMs);
  const seqS = summary(seq);
  const emit = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, ...base })}\n`);
  emit({ name: 'pod-startup/floor-cri', ...floorS });
  emit({
    name: 'pod-startup/sequential',
    ...seqS,
    ratio_p50_to_floor: +(seqS.p50_ms / floorS.p50_ms).toFixed(2),
    ratio_p99_to_floor: +(seqS.p99_ms / floorS.p99_ms).toFixed(2),
  });
  emit(burst30);
  emit(burst110);
  emit({ name: 'memory/idle', ...idle });
  emit({ name: 'memory/30-pods', ...loaded });
  emit({ name: 'memory/110-pods', ...full });
  emit({ name: 'metrics/scrape-110-pods', ...scrapes });
} finally {
  await cluster.teardown();
}
