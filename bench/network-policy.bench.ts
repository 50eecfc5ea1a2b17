// NetworkPolicy programming: 1,000 policies over 1,000 pods of one node, the
// table worked out and written with nft (a scratch table, removed after): the
// full sync, and one pod's label change (the model worked out again and only
// what changed written, as the agent does). One JSON line per case.
import { cpus } from 'node:os';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { cleanupProxy, nft, policyTableModel, renderPolicyDelta, renderPolicyTable, type PolicyTableModel } from '../agent/index.ts';
import { summary } from './stats.ts';

const PODS = 1000;
const POLICIES = 1000;
const TABLE = 'skbench-policy';
const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };

const ip = (i: number) => `10.250.${Math.floor(i / 250)}.${(i % 250) + 2}`;
const pods: Pod[] = Array.from({ length: PODS }, (_, i) => ({
  metadata: { name: `p${i}`, namespace: `ns${i % 10}`, uid: `u${i}`, labels: { app: `a${i % 100}`, tier: i % 2 ? 'web' : 'db' } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: ip(i) },
}));
const namespaces = Array.from({ length: 10 }, (_, i) => ({ metadata: { name: `ns${i}`, labels: { team: `t${i % 3}` } } }));
// each policy selects one app's pods and lets in another app's on the named port, and one team's namespaces
const policies: NetworkPolicy[] = Array.from({ length: POLICIES }, (_, i) => ({
  metadata: { name: `np${i}`, namespace: `ns${i % 10}` },
  spec: {
    podSelector: { matchLabels: { app: `a${i % 100}` } },
    ingress: [
      { from: [{ podSelector: { matchLabels: { app: `a${(i + 1) % 100}` } } }], ports: [{ port: 'http' }] },
      { from: [{ namespaceSelector: { matchLabels: { team: `t${i % 3}` } } }] },
    ],
  },
}));

const world = () => ({ policies, pods, namespaces, nodeName: 'n1' });

try {
  const full: number[] = [];
  const renders: number[] = [];
  let written: PolicyTableModel | undefined;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    written = policyTableModel(world());
    const script = renderPolicyTable(TABLE, written);
    renders.push(performance.now() - t0);
    await nft(script);
    full.push(performance.now() - t0);
  }
  const change: number[] = [];
  const deltaBytes: number[] = [];
  for (let i = 0; i < 10; i++) {
    (pods[i] as Pod).metadata = { ...(pods[i] as Pod).metadata, labels: { app: `a${(i + 50) % 100}`, tier: 'web' } };
    const t0 = performance.now();
    const next = policyTableModel(world());
    const delta = renderPolicyDelta(TABLE, written as PolicyTableModel, next);
    await nft(delta);
    written = next;
    change.push(performance.now() - t0);
    deltaBytes.push(delta.length);
  }
  const emit = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, ...base })}\n`);
  emit({ name: 'network-policy/full-sync', policies: POLICIES, pods: PODS, ...summary(full), render_p50_ms: summary(renders).p50_ms });
  emit({ name: 'network-policy/one-label-change', policies: POLICIES, pods: PODS, ...summary(change), delta_bytes_max: Math.max(...deltaBytes) });
} finally {
  await cleanupProxy(TABLE);
}
