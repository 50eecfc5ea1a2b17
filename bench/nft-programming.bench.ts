// Service proxy programming time in nftables for 1,000 and 10,000 Services
// of 10 endpoints each: a full sync (the whole table in one transaction) and
// one endpoint changed (the partial sync), each from building the objects in
// TypeScript to `nft` having applied them. Runs against a table of its own.
import { cpus } from 'node:os';
import { buildModel, renderRuleset, renderUpdate, type ServicePortRule } from '../agent/proxy/index.ts';
import { cleanupProxy, nft } from '../agent/proxy/service-proxy.ts';

const ENDPOINTS = 10;
const CHANGES = 5;
const table = `skiff-bench-${process.pid}`;
const opts = { table, clusterCidr: '10.244.0.0/16' };
const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };

const ip = (prefix: string, i: number) => `${prefix}.${(i >> 8) & 255}.${i & 255}`;
function services(n: number, changed = -1): ServicePortRule[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `bench/svc-${i}:http`,
    protocol: 'tcp' as const,
    clusterIP: ip('10.96', i + 256),
    port: 80,
    // the changed Service has its last endpoint replaced by another
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({ ip: ip(`10.${200 + e}`, i === changed && e === ENDPOINTS - 1 ? i + 1 : i), port: 8080 })),
  }));
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

try {
  for (const n of [1000, 10_000]) {
    const rules = services(n);
    let model = buildModel(rules, opts);
    const fullMs = await timed(async () => {
      model = buildModel(services(n), opts);
      await nft(renderRuleset(model, opts));
    });
    const changeMs: number[] = [];
    for (let k = 0; k < CHANGES; k++) {
      const target = (k * 7919) % n;
      let next = model;
      changeMs.push(await timed(async () => {
        next = buildModel(services(n, target), opts);
        await nft(renderUpdate(model, next, table));
      }));
      // and back, so each round changes one endpoint of the same table
      await nft(renderUpdate(next, model, table));
    }
    changeMs.sort((a, b) => a - b);
    process.stdout.write(`${JSON.stringify({ name: `nft/${n}-services`, services: n, endpoints_per_service: ENDPOINTS, full_sync_ms: Math.round(fullMs), one_endpoint_changed_p50_ms: Math.round(changeMs[Math.floor(CHANGES / 2)] as number), one_endpoint_changed_max_ms: Math.round(changeMs[CHANGES - 1] as number), ...base })}\n`);
    await cleanupProxy(table);
  }
} finally {
  await cleanupProxy(table);
}
