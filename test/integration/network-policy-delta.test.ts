// The policy table's partial writes against real nft: random worlds of pods,
// namespaces and policies change step by step (labels, pods, policies); after
// each step the table written whole once and then changed only by deltas
// holds exactly what a table written whole from the new world holds. In a
// network namespace of the test's own, so no rule reaches the host.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import fc from 'fast-check';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyTableModel, renderPolicyDelta, renderPolicyTable, type PolicyTableModel } from '../../agent/index.ts';
import { addNetns, ensureNetnsMountPoint, nsenterNetArgs } from '../../apimachinery/index.ts';

const run = promisify(execFile);
const NETNS = `skpd${randomBytes(3).toString('hex')}`;

function nftIn(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [...nsenterNetArgs(NETNS), 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nft failed: ${stderr}\n${script}`))));
    child.stdin.end(script);
  });
}

/** A table's sets, maps and chains with their rules, by name, as nft lists them (handles and the table's name left out, elements sorted). */
async function tableState(table: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('nsenter', [...nsenterNetArgs(NETNS), 'nft', '-j', 'list', 'table', 'ip', table]);
  const state: Record<string, unknown> = {};
  const rules: Record<string, unknown[]> = {};
  for (const o of (JSON.parse(stdout) as { nftables: Record<string, Record<string, unknown>>[] }).nftables) {
    const [kind, body] = Object.entries(o)[0] as [string, Record<string, unknown>];
    if (kind === 'rule') {
      const list = rules[body.chain as string] ?? [];
      list.push(body.expr);
      rules[body.chain as string] = list;
    } else if (kind === 'set' || kind === 'map' || kind === 'chain') {
      const { handle, table: _t, elem, ...rest } = body;
      state[`${kind} ${body.name}`] = { ...rest, ...(elem ? { elem: (elem as unknown[]).map((e) => JSON.stringify(e)).sort() } : {}) };
    }
  }
  for (const [chain, list] of Object.entries(rules)) state[`rules ${chain}`] = list;
  return state;
}

const labels = fc.dictionary(fc.constantFrom('app', 'role'), fc.constantFrom('a', 'b'), { maxKeys: 2 });
const selector = fc.option(
  labels.map((matchLabels) => ({ matchLabels })),
  { nil: undefined },
);
const peer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
  fc.record({ podSelector: labels.map((matchLabels) => ({ matchLabels })) }),
  fc.record({ namespaceSelector: labels.map((matchLabels) => ({ matchLabels })), podSelector: selector }, { requiredKeys: ['namespaceSelector'] }),
  fc.constant<NetworkPolicyPeer>({ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] } }),
);
const port: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.constant({ port: 80 }),
  fc.constant({ port: 'http' }),
  fc.constant({ protocol: 'UDP', port: 53, endPort: 60 }),
);
const rule = fc.record({ peers: fc.array(peer, { maxLength: 2 }), ports: fc.array(port, { maxLength: 2 }) });
const policyArb = (i: number): fc.Arbitrary<NetworkPolicy> =>
  fc
    .record({
      ns: fc.constantFrom('ns0', 'ns1'),
      podSelector: labels,
      ingress: fc.array(rule, { maxLength: 2 }),
      egress: fc.option(fc.array(rule, { maxLength: 2 })),
    })
    .map((p) => ({
      metadata: { name: `np${i}`, namespace: p.ns },
      spec: {
        podSelector: { matchLabels: p.podSelector },
        ingress: p.ingress.map((r) => ({ from: r.peers, ports: r.ports })),
        ...(p.egress ? { egress: p.egress.map((r) => ({ to: r.peers, ports: r.ports })) } : {}),
      },
    }));
const podArb = (i: number): fc.Arbitrary<Pod> =>
  fc.record({ ns: fc.constantFrom('ns0', 'ns1'), node: fc.constantFrom('n1', 'n2'), labels }).map((p) => ({
    metadata: { name: `p${i}`, namespace: p.ns, uid: `uid-${i}`, labels: p.labels },
    spec: { nodeName: p.node, containers: [{ name: 'c', ports: i % 2 ? [{ name: 'http', containerPort: 8080 + i }] : [] }] },
    status: { phase: 'Running', podIP: `10.77.0.${10 + i}` },
  }));
const namespacesArb = fc
  .tuple(labels, labels)
  .map(([a, b]): Namespace[] => [{ metadata: { name: 'ns0', labels: a } }, { metadata: { name: 'ns1', labels: b } }]);
interface World {
  pods: Pod[];
  policies: NetworkPolicy[];
  namespaces: Namespace[];
}
const worldArb: fc.Arbitrary<World> = fc.record({
  pods: fc.uniqueArray(fc.nat(11), { maxLength: 6 }).chain((ids) => fc.tuple(...ids.map(podArb))),
  policies: fc.uniqueArray(fc.nat(7), { maxLength: 4 }).chain((ids) => fc.tuple(...ids.map(policyArb))),
  namespaces: namespacesArb,
});

/** One change to a world, as the cluster makes them: a pod relabelled, gone or new, a namespace relabelled, a policy gone or new. */
const changeArb: fc.Arbitrary<(w: World) => World> = fc.oneof(
  fc.tuple(fc.nat(5), labels).map(([i, l]) => (w: World) => ({
    ...w,
    pods: w.pods.map((p, k) => (k === i % Math.max(1, w.pods.length) ? { ...p, metadata: { ...p.metadata, labels: l } } : p)),
  })),
  fc.nat(5).map((i) => (w: World) => ({ ...w, pods: w.pods.filter((_, k) => k !== i % Math.max(1, w.pods.length)) })),
  fc
    .nat(11)
    .chain((i) => podArb(i))
    .map((pod) => (w: World) => ({ ...w, pods: [...w.pods.filter((p) => p.metadata?.uid !== pod.metadata?.uid), pod] })),
  namespacesArb.map((namespaces) => (w: World) => ({ ...w, namespaces })),
  fc.nat(3).map((i) => (w: World) => ({ ...w, policies: w.policies.filter((_, k) => k !== i % Math.max(1, w.policies.length)) })),
  fc
    .nat(7)
    .chain((i) => policyArb(i))
    .map((policy) => (w: World) => ({ ...w, policies: [...w.policies.filter((p) => p.metadata?.name !== policy.metadata?.name), policy] })),
);

beforeAll(async () => {
  await ensureNetnsMountPoint();
  await addNetns(NETNS);
});

afterAll(async () => {
  await run('ip', ['netns', 'del', NETNS]).catch(() => undefined);
});

describe('the policy table written by deltas', () => {
  it('holds what the table written whole holds, after every change of a random world', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, fc.array(changeArb, { minLength: 1, maxLength: 6 }), async (first, changes) => {
        let written: PolicyTableModel | undefined;
        const worlds = [first];
        for (const change of changes) worlds.push(change(worlds.at(-1) as World));
        for (const w of worlds) {
          const next = policyTableModel({ ...w, nodeName: 'n1' });
          await nftIn(written ? renderPolicyDelta('delta', written, next) || 'list tables\n' : renderPolicyTable('delta', next));
          written = next;
          await nftIn(renderPolicyTable('whole', next));
          expect(await tableState('delta')).toEqual(await tableState('whole'));
        }
      }),
      { numRuns: 40, seed: 1 },
    );
  }, 120_000);
});
