// Watch fan-out: 100 watchers on one resource while objects are created one
// after another; the latency from the start of each create to its ADDED
// event at every watcher, on SQLite and on a 3-member etcd. One JSON line per backend.
import { request, Agent } from 'node:https';
import { loadKubeconfig, type ClientConfig } from '../apimachinery/index.ts';
import { onEachBackend } from './backends.ts';
import { percentile, send } from './client.ts';
import { rssKiB } from './rss.ts';

const WATCHERS = 100;
const OBJECTS = 200;
const PATH = '/api/v1/namespaces/default/configmaps';

/** Opens a watch; calls onAdded with each ADDED object's name as it arrives. Resolves once the stream is open. */
function openWatch(cfg: ClientConfig, agent: Agent, onAdded: (name: string) => void): Promise<() => void> {
  const url = new URL(cfg.server);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: `${PATH}?watch=true&resourceVersion=1`, agent, ca: cfg.ca, cert: cfg.cert, key: cfg.key },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`watch: HTTP ${res.statusCode}`));
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const e = JSON.parse(buf.slice(0, nl)) as { type: string; object: { metadata: { name: string } } };
            buf = buf.slice(nl + 1);
            if (e.type === 'ADDED') onAdded(e.object.metadata.name);
          }
        });
        resolve(() => req.destroy());
      },
    );
    req.on('error', reject);
    req.end();
  });
}

await onEachBackend('fanout', async (api, backend) => {
  const cfg = await loadKubeconfig(api.kubeconfig);
  const watchAgent = new Agent({ keepAlive: true, maxSockets: WATCHERS });
  const writeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let pending = 0;
  let wake: (() => void) | undefined;
  const stops = await Promise.all(
    Array.from({ length: WATCHERS }, () =>
      openWatch(cfg, watchAgent, (name) => {
        const t0 = sentAt.get(name);
        if (t0 === undefined) return;
        latencies.push(performance.now() - t0);
        if (--pending === 0) wake?.();
      }),
    ),
  );
  const started = performance.now();
  for (let i = 0; i < OBJECTS; i++) {
    const name = `fan-${i}`;
    pending += WATCHERS;
    const delivered = new Promise<void>((resolve) => (wake = resolve));
    sentAt.set(name, performance.now());
    const r = await send(cfg, writeAgent, 'POST', PATH, { metadata: { name }, data: { k: 'v' } });
    if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
    await delivered;
  }
  const seconds = (performance.now() - started) / 1000;
  const rss = Math.round((await rssKiB(api.server.pid)) / 1024);
  for (const stop of stops) stop();
  watchAgent.destroy();
  writeAgent.destroy();
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      scenario: 'watch-fanout',
      backend,
      watchers: WATCHERS,
      objects: OBJECTS,
      events: latencies.length,
      eventsPerSec: Math.round(latencies.length / seconds),
      p50Ms: +percentile(latencies, 50).toFixed(1),
      p99Ms: +percentile(latencies, 99).toFixed(1),
      serverRssMiB: rss,
    }),
  );
});
