// Control-plane figures on hollow nodes: scheduler throughput for 30,000
// bare pods at 100 and 1,000 nodes, then a 1,000-replica Deployment until
// all replicas are available, with the server's memory. One JSON line per case.
//
// For throughput the pods are created while another identity holds the
// kube-scheduler Lease; releasing it lets the scheduler start on a full
// queue, and the rate is taken from the first binding to the last.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { RestClient, loadKubeconfig, type ClientConfig } from '../apimachinery/index.ts';
import { stopPid, waitFor } from '../lab/index.ts';
import { SKIFF, spawnLogged, startTestApiServer, type TestApiServer } from '../lab/testbed/index.ts';
import { send } from './client.ts';
import { rssKiB } from './rss.ts';

const PODS = 30_000;
const CREATORS = 32;

async function startHollow(api: TestApiServer, dir: string, count: number): Promise<ChildProcess> {
  // room for 30,000 pods on 100 nodes
  const hollow = await spawnLogged(
    [
      SKIFF,
      'hollow-nodes',
      '--count',
      String(count),
      '--max-pods',
      '1000',
      '--cpu',
      '256',
      '--memory',
      '1Ti',
      '--kubeconfig',
      api.kubeconfig,
      '--log-level',
      'warn',
    ],
    join(dir, `hollow-${count}.log`),
  );
  const client = new RestClient(await loadKubeconfig(api.kubeconfig));
  await waitFor(`${count} hollow nodes`, async () => (await client.get<{ items: unknown[] }>({ resource: 'nodes' })).items.length >= count, 120_000, 500);
  client.close();
  return hollow;
}

/** Counts pods as they get a node, through a watch; resolves with the first and last binding times once `total` have. */
function watchBindings(cfg: ClientConfig, namespace: string, total: number, signal: AbortSignal): Promise<{ first: number; last: number }> {
  const client = new RestClient(cfg);
  const bound = new Set<string>();
  let first = 0;
  return new Promise((resolve) => {
    void client
      .watch<Pod>(
        { resource: 'pods', namespace },
        { allowWatchBookmarks: false },
        (e) => {
          const name = e.object.metadata?.name ?? '';
          if (!e.object.spec?.nodeName || bound.has(name)) return;
          if (bound.size === 0) first = performance.now();
          bound.add(name);
          if (bound.size === total) resolve({ first, last: performance.now() });
        },
        { signal },
      )
      .catch(() => undefined);
  });
}

const SCHEDULER_LEASE = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' };

/** Holds the kube-scheduler Lease for someone else (a whole hour), or gives it back. */
async function holdScheduler(client: RestClient, hold: boolean): Promise<void> {
  await waitFor(
    'the scheduler lease',
    async () => {
      try {
        const lease = await client.get<{ spec: Record<string, unknown> }>(SCHEDULER_LEASE);
        await client.update(SCHEDULER_LEASE, {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: hold ? 'bench-holder' : '',
            leaseDurationSeconds: hold ? 3600 : 1,
            renewTime: new Date().toISOString().replace('Z', '000Z'),
          },
        });
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    200,
  );
}

async function createPods(cfg: ClientConfig, namespace: string, total: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CREATORS });
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATORS }, async () => {
      while (next < total) {
        const i = next++;
        const r = await send(cfg, agent, 'POST', `/api/v1/namespaces/${namespace}/pods`, {
          metadata: { name: `p${i}` },
          spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
        });
        if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
      }
    }),
  );
  agent.destroy();
}

async function throughput(api: TestApiServer, dir: string, nodes: number): Promise<void> {
  const hollow = await startHollow(api, dir, nodes);
  const cfg = await loadKubeconfig(api.kubeconfig);
  const namespace = `bench-${nodes}`;
  await send(cfg, new Agent(), 'POST', '/api/v1/namespaces', { metadata: { name: namespace } });
  const stop = new AbortController();
  const client = new RestClient(cfg);
  try {
    // the current leader steps down within its renew deadline once the lease is taken from it
    await holdScheduler(client, true);
    await new Promise((r) => setTimeout(r, 10_000));
    const bindings = watchBindings(cfg, namespace, PODS, stop.signal);
    const started = performance.now();
    await createPods(cfg, namespace, PODS);
    const createSeconds = (performance.now() - started) / 1000;
    await holdScheduler(client, false);
    const { first, last } = await bindings;
    const seconds = (last - first) / 1000;
    console.log(
      JSON.stringify({
        scenario: 'scheduler-throughput',
        nodes,
        pods: PODS,
        createSeconds: +createSeconds.toFixed(1),
        schedulingSeconds: +seconds.toFixed(1),
        podsPerSec: Math.round(PODS / seconds),
        serverRssMiB: Math.round((await rssKiB(api.server.pid)) / 1024),
      }),
    );
  } finally {
    stop.abort();
    client.close();
    await stopPid(hollow.pid as number, 60_000);
  }
}

async function deploymentRollout(api: TestApiServer, dir: string): Promise<void> {
  const hollow = await startHollow(api, dir, 1000);
  const client = new RestClient(await loadKubeconfig(api.kubeconfig));
  try {
    const started = performance.now();
    await client.create(
      { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'thousand' },
        spec: {
          replicas: 1000,
          selector: { matchLabels: { app: 'thousand' } },
          template: { metadata: { labels: { app: 'thousand' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
        },
      },
    );
    await waitFor(
      '1000 available replicas',
      async () =>
        (
          await client.get<{ status?: { availableReplicas?: number } }>({
            group: 'apps',
            version: 'v1',
            resource: 'deployments',
            namespace: 'default',
            name: 'thousand',
          })
        ).status?.availableReplicas === 1000,
      600_000,
      250,
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify({
        scenario: 'deployment-1000-replicas',
        nodes: 1000,
        allAvailableSeconds: +seconds.toFixed(1),
        serverRssMiB: Math.round((await rssKiB(api.server.pid)) / 1024),
      }),
    );
  } finally {
    client.close();
    await stopPid(hollow.pid as number, 60_000);
  }
}

const dir = await mkdtemp(join(tmpdir(), 'sk-bench-sched-'));
try {
  for (const nodes of [100, 1000]) {
    const api = await startTestApiServer(join(dir, `server-${nodes}`), ['--log-level', 'warn']);
    try {
      await throughput(api, join(dir, `server-${nodes}`), nodes);
    } finally {
      await api.stop();
    }
  }
  const api = await startTestApiServer(join(dir, 'server-deploy'), ['--log-level', 'warn']);
  try {
    await deploymentRollout(api, join(dir, 'server-deploy'));
  } finally {
    await api.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
