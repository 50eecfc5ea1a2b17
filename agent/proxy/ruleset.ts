import { ELEMENT_SETS, MASQ_MARK, staticPickers, type ElementSet, type Fragment, type RulesetOptions } from './proxy-model.ts';
import type { ProxyDelta } from './proxy-state.ts';

const elementList = (m: Map<string, string>) => [...m].map(([k, v]) => (v ? `${k} : ${v}` : k)).join(', ');
const chainBlock = (name: string, body: string) => `  chain ${name} {\n${body}\n  }`;

/** Each shared map and set, declared. */
const DECLARATIONS: Record<ElementSet, string> = {
  'cluster-ips': 'map cluster-ips {\n    type ipv4_addr . inet_proto . inet_service : verdict',
  'node-ports': 'map node-ports {\n    type inet_proto . inet_service : verdict',
  endpoints: 'map endpoints {\n    typeof ip daddr . meta l4proto . th dport . numgen random mod 1 : ip daddr . th dport',
  'node-port-endpoints': 'map node-port-endpoints {\n    typeof meta l4proto . th dport . numgen random mod 1 : ip daddr . th dport',
  'no-endpoint-ips': 'set no-endpoint-ips {\n    type ipv4_addr . inet_proto . inet_service',
  'no-endpoint-node-ports': 'set no-endpoint-node-ports {\n    type inet_proto . inet_service',
  hairpin: 'set hairpin {\n    type ipv4_addr . ipv4_addr',
};

/**
 * The whole table as one `nft -f` script, applied as a single transaction:
 * the table is created (so the delete cannot fail), deleted and defined anew.
 */
export function renderRuleset(contents: Fragment, opts: RulesetOptions): string {
  const t = opts.table;
  const decl = (s: ElementSet) => `  ${DECLARATIONS[s]}${contents.elements[s].size ? `\n    elements = { ${elementList(contents.elements[s])} }` : ''}\n  }`;
  return `add table ip ${t}
delete table ip ${t}
table ip ${t} {
  comment "skiff service proxy"
${ELEMENT_SETS.map(decl).join('\n')}
${[...contents.affinitySets].map(([name, body]) => `  set ${name} {\n${body}\n  }`).join('\n')}
${[...staticPickers(opts.clusterCidr), ...contents.chains].map(([name, body]) => chainBlock(name, body)).join('\n')}
  chain services {
    ip daddr . meta l4proto . th dport vmap @cluster-ips
    fib daddr type local meta l4proto . th dport vmap @node-ports
  }
  chain nat-prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    jump services
  }
  chain nat-output {
    type nat hook output priority -100; policy accept;
    jump services
  }
  chain nat-postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ct status dnat ip saddr . ip daddr @hairpin masquerade
    meta mark & ${MASQ_MARK} == ${MASQ_MARK} meta mark set meta mark & 0xffffbfff masquerade
  }
  chain reject-forward {
    type filter hook forward priority filter - 10; policy accept;
    ip daddr . meta l4proto . th dport @no-endpoint-ips reject
  }
  chain reject-output {
    type filter hook output priority filter - 10; policy accept;
    ip daddr . meta l4proto . th dport @no-endpoint-ips reject
  }
  chain reject-input {
    type filter hook input priority filter - 10; policy accept;
    fib daddr type local meta l4proto . th dport @no-endpoint-node-ports reject
  }
}
`;
}

/**
 * One partial sync as one transaction (kube-proxy's partial sync): elements
 * that go or change are deleted, chains that go are flushed (so nothing
 * refers to what is deleted), new sets added, changed chains refilled and new
 * ones made, new elements added, and the chains and sets that went deleted
 * last. '' when nothing changed.
 */
export function renderDelta(d: ProxyDelta, table: string): string {
  const t = table;
  const lines: string[] = [];
  for (const s of ELEMENT_SETS) if (d.elements[s].removed.length) lines.push(`delete element ip ${t} ${s} { ${d.elements[s].removed.join(', ')} }`);
  for (const c of d.chains.removed) lines.push(`flush chain ip ${t} ${c}`);
  for (const [name, body] of d.affinitySets.added) lines.push(`add set ip ${t} ${name} { ${body.trim().replace(/\n\s*/g, '; ')}; }`);
  for (const name of d.chains.changed.keys()) lines.push(`flush chain ip ${t} ${name}`);
  // new chains are made by the block itself, which also sets their comment
  const filled = [...d.chains.added, ...d.chains.changed];
  if (filled.length) lines.push(`table ip ${t} {`, ...filled.map(([name, body]) => chainBlock(name, body)), '}');
  for (const s of ELEMENT_SETS) if (d.elements[s].added.size) lines.push(`add element ip ${t} ${s} { ${elementList(d.elements[s].added)} }`);
  for (const c of d.chains.removed) lines.push(`delete chain ip ${t} ${c}`);
  for (const s of d.affinitySets.removed) lines.push(`delete set ip ${t} ${s}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}
