// API write throughput and latency: small ConfigMaps created over HTTPS by
// 1, 16 and 64 concurrent clients, on SQLite and on a 3-member etcd; then
// LIST of 10k pods. One JSON line per case.
import { Agent } from 'node:https';
import { percentile, scrape, send } from './client.ts';
import { rssKiB } from './rss.ts';
import { loadKubeconfig } from '../apimachinery/index.ts';
import type { TestApiServer } from '../lab/testbed/index.ts';
import { onEachBackend } from './backends.ts';

interface WriteRun {
  backend: string;
  clients: number;
  total: number;
  /** names the ConfigMaps (each run writes its own) */
  prefix: string;
  /** scrape /metrics this often while writing (none: no scraping) */
  scrapeEveryMs?: number;
}

/** `total` ConfigMap creates by `clients` concurrent clients: their rate and latencies. */
async function writes(api: TestApiServer, run: WriteRun): Promise<{ writesPerSec: number; p50Ms: number; p99Ms: number }> {
  const cfg = await loadKubeconfig(api.kubeconfig);
  const agent = new Agent({ keepAlive: true, maxSockets: run.clients + 1 });
  const latencies: number[] = [];
  let next = 0;
  let writing = true;
  const scraper = (async () => {
    while (run.scrapeEveryMs && writing) {
      const r = await scrape(cfg, agent, '/metrics');
      if (r.status !== 200) throw new Error(`scrape failed: ${r.status}`);
      await new Promise((resolve) => setTimeout(resolve, run.scrapeEveryMs));
    }
  })();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: run.clients }, async () => {
      while (next < run.total) {
        const i = next++;
        const t0 = performance.now();
        const r = await send(cfg, agent, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `${run.prefix}-${i}` }, data: { k: 'v' } });
        if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  writing = false;
  await scraper;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { writesPerSec: Math.round(run.total / seconds), p50Ms: +percentile(latencies, 50).toFixed(1), p99Ms: +percentile(latencies, 99).toFixed(1) };
}

/**
 * The cost of being scraped: the same writes with and without a scraper on
 * /metrics each second, in turns, each mode going first in half the rounds
 * (the second run of a round meets a warmer process and a larger store).
 */
async function scrapeCost(api: TestApiServer, backend: string): Promise<void> {
  const rates = { quiet: [] as number[], scraped: [] as number[] };
  for (let round = 0; round < 4; round++) {
    for (const mode of round % 2 ? (['scraped', 'quiet'] as const) : (['quiet', 'scraped'] as const)) {
      const r = await writes(api, { backend, clients: 16, total: 2000, prefix: `${mode}${round}`, scrapeEveryMs: mode === 'scraped' ? 1000 : undefined });
      rates[mode].push(r.writesPerSec);
    }
  }
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  console.log(
    JSON.stringify({
      scenario: 'api-writes-scraped',
      backend,
      clients: 16,
      writesPerSecQuiet: mean(rates.quiet),
      writesPerSecScraped: mean(rates.scraped),
      ratio: +(mean(rates.scraped) / mean(rates.quiet)).toFixed(3),
    }),
  );
}

async function listPods(api: TestApiServer, backend: string, count: number): Promise<void> {
  const cfg = await loadKubeconfig(api.kubeconfig);
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
        const i = next++;
        await send(cfg, agent, 'POST', '/api/v1/namespaces/default/pods', {
          metadata: { name: `p${i}`, labels: { app: 'bench' } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        });
      }
    }),
  );
  // the newest state (on etcd read from etcd) and resourceVersion=0 (the watch cache on
  // both), taken in turns so both see the same background work of the controllers
  const paths = { newest: '/api/v1/pods', rv0: '/api/v1/pods?resourceVersion=0' };
  const times = { newest: [] as number[], rv0: [] as number[] };
  let items = 0;
  for (let i = 0; i < 5; i++) {
    for (const read of ['newest', 'rv0'] as const) {
      const t0 = performance.now();
      const r = await send(cfg, agent, 'GET', paths[read]);
      times[read].push(performance.now() - t0);
      items = (JSON.parse(r.text) as { items: unknown[] }).items.length;
    }
  }
  const p50 = (t: number[]) =>
    Math.round(
      percentile(
        t.sort((a, b) => a - b),
        50,
      ),
    );
  const max = (t: number[]) => Math.round(Math.max(...t));
  agent.destroy();
  const rss = (await rssKiB(api.server.pid)) / 1024;
  console.log(
    JSON.stringify({
      scenario: 'api-list-pods',
      backend,
      pods: items,
      p50Ms: p50(times.newest),
      maxMs: max(times.newest),
      rv0P50Ms: p50(times.rv0),
      rv0MaxMs: max(times.rv0),
      serverRssMiB: Math.round(rss),
    }),
  );
}

await onEachBackend('api', async (api, backend) => {
  for (const clients of [1, 16, 64]) {
    const total = clients === 1 ? 500 : 3000;
    const r = await writes(api, { backend, clients, total, prefix: `c${clients}` });
    console.log(JSON.stringify({ scenario: 'api-writes', backend, clients, writes: total, ...r }));
  }
  await scrapeCost(api, backend);
  await listPods(api, backend, 10_000);
});
