// Service proxy programming time in nftables for 1,000 and 10,000 Services
// of 10 endpoints each: a full sync (the whole table in one transaction) and
// one endpoint changed (the partial sync: one Service's fragment replaced),
// each from building the objects in TypeScript to `nft` having applied them.
// Runs against a table of its own.
import { cpus } from 'node:os';
import { ProxyState, cleanupProxy, nft, renderDelta, renderRuleset, serviceFragment, type ServicePortRule } from '../agent/index.ts';

const ENDPOINTS = 10;
const CHANGES = 5;
const table = `skiff-bench-${process.pid}`;
const opts = { table, clusterCidr: '10.244.0.0/16' };
const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };

const ip = (prefix: string, i: number) => `${prefix}.${(i >> 8) & 255}.${i & 255}`;
function service(i: number, changed = false): ServicePortRule {
  return {
    id: `bench/svc-${i}:http`,
    protocol: 'tcp',
    clusterIP: ip('10.96', i + 256),
    port: 80,
    // a changed Service has its last endpoint replaced by another
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({ ip: ip(`10.${200 + e}`, changed && e === ENDPOINTS - 1 ? i + 1 : i), port: 8080 })),
  };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

try {
  for (const n of [1000, 10_000]) {
    let state = new ProxyState();
    const fullMs = await timed(async () => {
      state = new ProxyState();
      for (let i = 0; i < n; i++) state.replace(`svc-${i}`, serviceFragment(service(i), opts));
      state.takeDelta();
      await nft(renderRuleset(state.contents(), opts));
    });
    const changeMs: number[] = [];
    for (let k = 0; k < CHANGES; k++) {
      const target = (k * 7919) % n;
      changeMs.push(
        await timed(async () => {
          state.replace(`svc-${target}`, serviceFragment(service(target, true), opts));
          await nft(renderDelta(state.takeDelta(), table));
        }),
      );
      // and back, so each round changes one endpoint of the same table
      state.replace(`svc-${target}`, serviceFragment(service(target), opts));
      await nft(renderDelta(state.takeDelta(), table));
    }
    changeMs.sort((a, b) => a - b);
    process.stdout.write(
      `${JSON.stringify({ name: `nft/${n}-services`, services: n, endpoints_per_service: ENDPOINTS, full_sync_ms: Math.round(fullMs), one_endpoint_changed_p50_ms: Math.round(changeMs[Math.floor(CHANGES / 2)] as number), one_endpoint_changed_max_ms: Math.round(changeMs[CHANGES - 1] as number), ...base })}\n`,
    );
    await cleanupProxy(table);
  }
} finally {
  await cleanupProxy(table);
}
