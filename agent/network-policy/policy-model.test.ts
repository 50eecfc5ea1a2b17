import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { describe, expect, it } from 'vitest';
import { policyTableModel, policyTypes, renderPolicyDelta, renderPolicyTable, type PolicyWorld } from './policy-model.ts';

const pod = (
  name: string,
  ip: string,
  labels: Record<string, string>,
  o: { namespace?: string; node?: string; ports?: { name: string; containerPort: number }[] } = {},
): Pod => ({
  metadata: { name, namespace: o.namespace ?? 'default', uid: `uid-${name}`, labels },
  spec: { nodeName: o.node ?? 'n1', containers: [{ name: 'c', ports: o.ports }] },
  status: { phase: 'Running', podIP: ip },
});
const ns = (name: string, labels: Record<string, string> = {}): Namespace => ({
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
});
const policy = (name: string, spec: NetworkPolicy['spec'], namespace = 'default'): NetworkPolicy => ({ metadata: { name, namespace }, spec });

const web = pod('web', '10.244.0.10', { app: 'web' }, { ports: [{ name: 'http', containerPort: 8080 }] });
const client = pod('client', '10.244.0.11', { role: 'client' });
const other = pod('other', '10.244.0.12', { role: 'other' });
const remote = pod('remote', '10.244.1.5', { role: 'client' }, { node: 'n2' });
const monitor = pod('prom', '10.244.1.6', {}, { namespace: 'monitoring', node: 'n2' });
const render = (w: PolicyWorld) => renderPolicyTable('t', policyTableModel(w));
const world = (policies: NetworkPolicy[]): PolicyWorld => ({
  policies,
  pods: [web, client, other, remote, monitor],
  namespaces: [ns('default'), ns('monitoring', { team: 'ops' })],
  nodeName: 'n1',
});
/** The rules of the chain deciding `direction` for the pod at `ip`, or undefined. */
function chainFor(script: string, ip: string, direction: 'ingress' | 'egress'): string[] | undefined {
  const element = new RegExp(`${ip.replace(/\./g, '\\.')} : jump (\\S+?)[,\\s]`).exec(script.slice(script.indexOf(`map ${direction}`)));
  if (!element) return undefined;
  const body = new RegExp(`chain ${element[1]} \\{\\n([\\s\\S]*?)\\n  \\}`).exec(script)?.[1] ?? '';
  // named sets shown by what they hold
  const sets = new Map(
    [...script.matchAll(/set (\S+) \{\n\s+type ipv4_addr\n(?:\s+elements = (\{ [^}]* \})\n)?/g)].map((m) => [m[1] as string, m[2] ?? '{ }']),
  );
  return body
    .split('\n')
    .map((l) => l.trim().replace(/@(\S+)/g, (_, name: string) => sets.get(name) ?? `@${name}`))
    .filter((l) => l && !l.startsWith('comment'));
}

describe('NetworkPolicy as nftables rules', () => {
  it('leaves pods no policy selects alone, and with no policy isolates nothing', () => {
    const script = render(world([]));
    expect(chainFor(script, web.status?.podIP as string, 'ingress')).toBeUndefined();
    expect(script).toContain('ct state established,related accept');
  });

  it('denies all ingress to the pods a default-deny selects, and only those of its namespace', () => {
    const script = render(world([policy('deny', { podSelector: {} })]));
    expect(chainFor(script, '10.244.0.10', 'ingress')).toEqual(['drop']);
    expect(chainFor(script, '10.244.0.10', 'egress')).toBeUndefined();
    // the other node's pods are that node's to isolate
    expect(chainFor(script, '10.244.1.5', 'ingress')).toBeUndefined();
  });

  it('allows from the pods a podSelector picks (on any node), from a namespace by its labels, and by named port', () => {
    const script = render(
      world([
        policy('web', {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [
            { from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 'http' }] },
            { from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] },
            { from: [{ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] } }], ports: [{ protocol: 'UDP', port: 53, endPort: 60 }] },
          ],
        }),
      ]),
    );
    expect(chainFor(script, '10.244.0.10', 'ingress')).toEqual([
      'ip saddr { 10.244.0.11, 10.244.1.5 } tcp dport 8080 accept',
      'ip saddr { 10.244.1.6 } accept',
      'ip saddr 192.0.2.0/24 ip saddr != { 192.0.2.128/25 } udp dport 53-60 accept',
      'drop',
    ]);
  });

  it("isolates egress where the policy says so, letting allowed traffic go on to the destination's ingress check", () => {
    const deny = policy('egress', {
      podSelector: { matchLabels: { role: 'client' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
    });
    expect(policyTypes(deny)).toEqual(['egress']);
    const script = render(world([deny]));
    expect(chainFor(script, '10.244.0.11', 'egress')).toEqual(['ip daddr { 10.244.0.10 } return', 'drop']);
    // one set for each peer, however many rules refer to it
    expect(script.match(/^ {2}set /gm)).toHaveLength(1);
    expect(chainFor(script, '10.244.0.10', 'ingress')).toBeUndefined();
    // a policy with egress rules and no policyTypes isolates both ways, as Kubernetes defaults it
    expect(policyTypes(policy('both', { podSelector: {}, egress: [{}] }))).toEqual(['ingress', 'egress']);
  });

  it('allows everything where a rule is empty, and nothing from a selector that picks no pod', () => {
    const script = render(
      world([policy('all', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}, { from: [{ podSelector: { matchLabels: { nobody: 'x' } } }] }] })]),
    );
    expect(chainFor(script, '10.244.0.10', 'ingress')).toEqual(['accept', 'drop']);
  });
});

describe('NetworkPolicy table changes', () => {
  const policies = [
    policy('web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }] }),
  ];
  const before = policyTableModel(world(policies));

  it('writes nothing when nothing changed', () => {
    expect(renderPolicyDelta('t', before, policyTableModel(world(policies)))).toBe('');
  });

  it("moves only an address between sets when a pod's labels change", () => {
    const relabelled = { ...other, metadata: { ...other.metadata, labels: { role: 'client' } } };
    const after = policyTableModel({ ...world(policies), pods: [web, client, relabelled, remote, monitor] });
    const [set] = [...after.sets.keys()];
    expect(renderPolicyDelta('t', before, after)).toBe(`add element ip t ${set} { 10.244.0.12 }\n`);
  });

  it('takes a deleted pod out of the maps before its chain goes, and the chain before the sets only it used', () => {
    const after = policyTableModel({ ...world(policies), pods: [client, other, remote, monitor] });
    const [set] = [...before.sets.keys()];
    expect(renderPolicyDelta('t', before, after).split('\n')).toEqual([
      'delete element ip t ingress { 10.244.0.10 }',
      'flush chain ip t in-uid-web',
      'delete chain ip t in-uid-web',
      `delete set ip t ${set}`,
      '',
    ]);
  });

  it('makes the sets and chains of a new policy before the map elements that jump to them', () => {
    const deny = policy('deny-client', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'] });
    const lines = renderPolicyDelta('t', before, policyTableModel(world([...policies, deny]))).split('\n');
    expect(lines.indexOf('table ip t {')).toBeLessThan(lines.indexOf('add element ip t egress { 10.244.0.11 : jump out-uid-client }'));
    expect(lines).toContain('  chain out-uid-client {');
  });
});
