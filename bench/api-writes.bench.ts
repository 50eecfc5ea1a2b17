// API write throughput and latency: small ConfigMaps created over HTTPS by
// 1, 16 and 64 concurrent clients, on SQLite and on a 3-member etcd; then
// LIST of 10k pods. One JSON line per case.
import { Agent } from 'node:https';
import { percentile, send } from './client.ts';
import { rssKiB } from './rss.ts';
import { loadKubeconfig } from '../apimachinery/index.ts';
import type { TestApiServer } from '../test/harness/api-server.ts';
import { onEachBackend } from './backends.ts';

async function writes(api: TestApiServer, backend: string, clients: number, total: number): Promise<void> {
  const cfg = await loadKubeconfig(api.kubeconfig);
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      const r = await send(cfg, agent, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `c${clients}-${i}` }, data: { k: 'v' } });
      if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({ scenario: 'api-writes', backend, clients, writes: total, writesPerSec: Math.round(total / seconds), p50Ms: +percentile(latencies, 50).toFixed(1), p99Ms: +percentile(latencies, 99).toFixed(1) }));
}

async function listPods(api: TestApiServer, backend: string, count: number): Promise<void> {
  const cfg = await loadKubeconfig(api.kubeconfig);
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < count) {
      const i = next++;
      await send(cfg, agent, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: `p${i}`, labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    }
  }));
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = await send(cfg, agent, 'GET', '/api/v1/pods');
    times.push(performance.now() - t0);
    items = (JSON.parse(r.text) as { items: unknown[] }).items.length;
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  const rss = (await rssKiB(api.server.pid)) / 1024;
  console.log(JSON.stringify({ scenario: 'api-list-pods', backend, pods: items, p50Ms: Math.round(percentile(times, 50)), maxMs: Math.round(times[times.length - 1] ?? 0), serverRssMiB: Math.round(rss) }));
}

await onEachBackend('api', async (api, backend) => {
  for (const clients of [1, 16, 64]) await writes(api, backend, clients, clients === 1 ? 500 : 3000);
  await listPods(api, backend, 10_000);
});
