import { createHash } from 'node:crypto';

/** One port of a Service as the proxy programs it. */
export interface ServicePortRule {
  /** namespace/name:port-name, for chain names and comments */
  id: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  clusterIP: string;
  port: number;
  nodePort?: number;
  /** externalIPs and LoadBalancer ingress IPs, reached like the NodePort */
  externalIPs?: string[];
  /** where traffic goes: ready endpoints (or, with none ready, serving terminating ones) */
  endpoints: { ip: string; port: number; local?: boolean }[];
  /** sessionAffinity ClientIP: a client sticks to its endpoint this long */
  affinitySeconds?: number;
  /** externalTrafficPolicy Local: NodePort and external traffic only to this node's endpoints, unmasqueraded */
  externalLocal?: boolean;
  /** internalTrafficPolicy Local: ClusterIP traffic only to this node's endpoints */
  internalLocal?: boolean;
}

export interface RulesetOptions {
  table: string;
  /** the cluster's pod network: traffic from elsewhere is masqueraded */
  clusterCidr: string;
}

/** The maps and sets of the table whose elements Services add. */
export const ELEMENT_SETS = ['cluster-ips', 'node-ports', 'endpoints', 'node-port-endpoints', 'no-endpoint-ips', 'no-endpoint-node-ports', 'hairpin'] as const;
export type ElementSet = (typeof ELEMENT_SETS)[number];

/**
 * What some Services add to the table: chains by name (with their bodies),
 * session affinity sets, and elements of the shared maps and sets
 * (key → value, '' for plain sets).
 */
export interface Fragment {
  chains: Map<string, string>;
  affinitySets: Map<string, string>;
  elements: Record<ElementSet, Map<string, string>>;
}

export function emptyFragment(): Fragment {
  return { chains: new Map(), affinitySets: new Map(), elements: Object.fromEntries(ELEMENT_SETS.map((s) => [s, new Map()])) as Fragment['elements'] };
}

/** Packets to masquerade carry this mark (kube-proxy's 0x4000). */
export const MASQ_MARK = '0x4000';
const MARK_FOR_MASQUERADE = `meta mark set meta mark | ${MASQ_MARK}`;

const short = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/**
 * How traffic of one kind is sent to one of N endpoints: a chain per kind
 * and N, shared by every Service; the endpoint is one lookup in a map keyed
 * by the destination and a random index. (nft resolves chain names
 * linearly: a chain per Service or endpoint made syncs of 10,000 Services
 * take minutes.)
 */
const PICKERS = {
  /** to a ClusterIP: masquerade what comes from outside the cluster */
  cluster: { map: 'endpoints', key: 'ip daddr . meta l4proto . th dport', head: (cidr: string) => [`ip saddr != ${cidr} ${MARK_FOR_MASQUERADE}`] },
  /** to an external IP: masqueraded */
  external: { map: 'endpoints', key: 'ip daddr . meta l4proto . th dport', head: () => [MARK_FOR_MASQUERADE] },
  /** to an external IP of a Local Service: this node's endpoints, client address kept */
  'external-local': { map: 'endpoints', key: 'ip daddr . meta l4proto . th dport', head: () => [] },
  /** to a NodePort: masqueraded */
  'node-port': { map: 'node-port-endpoints', key: 'meta l4proto . th dport', head: () => [MARK_FOR_MASQUERADE] },
  /** to a NodePort of a Local Service */
  'node-port-local': { map: 'node-port-endpoints', key: 'meta l4proto . th dport', head: () => [] },
} as const;
type PickerKind = keyof typeof PICKERS;

/**
 * nft 1.0 refuses to add a rule that looks up such a map to an existing
 * table ("conflicting protocols"), so a picker can only appear with a full
 * rewrite. Every rule referring to the endpoints map also costs a full
 * rewrite about 10 ms per 100,000 endpoints, so only the commonest pickers
 * are always there (ClusterIP traffic to 1–8 endpoints); any other is made
 * with the Service that needs it, by a full rewrite.
 */
export const STATIC_PICKERS = 8;
const isStatic = (kind: PickerKind, n: number) => kind === 'cluster' && n <= STATIC_PICKERS;

const pickerName = (kind: PickerKind, n: number) => `pick-${kind}-${n}`;
const pickerBody = (kind: PickerKind, n: number, cidr: string) =>
  [...PICKERS[kind].head(cidr), `dnat ip to ${PICKERS[kind].key} . numgen random mod ${n} map @${PICKERS[kind].map}`].map((l) => `    ${l}`).join('\n');

/** The pickers every table has. */
export function staticPickers(cidr: string): Map<string, string> {
  const out = new Map<string, string>();
  for (let n = 1; n <= STATIC_PICKERS; n++) out.set(pickerName('cluster', n), pickerBody('cluster', n, cidr));
  return out;
}

/** Whether a new chain can only come with a full rewrite (a picker the table does not always have). */
export const needsFullRewrite = (chain: string) => chain.startsWith('pick-');

function picker(f: Fragment, kind: PickerKind, n: number, cidr: string): string {
  const name = pickerName(kind, n);
  if (!isStatic(kind, n)) f.chains.set(name, pickerBody(kind, n, cidr));
  return name;
}

/**
 * One Service port's share of the table. Lookups go through one verdict map
 * for ClusterIPs and external IPs and one for NodePorts, so a packet's path
 * does not grow with the number of Services; a Service without endpoints is
 * rejected from filter chains; a pod reaching itself through its Service is
 * masqueraded (hairpin). With session affinity a Service keeps chains of
 * its own: each endpoint remembers its clients in a timed set.
 */
export function serviceFragment(s: ServicePortRule, opts: RulesetOptions, f: Fragment = emptyFragment()): Fragment {
  const { elements } = f;
  const key = `${s.clusterIP} . ${s.protocol} . ${s.port}`;
  const externals = (s.externalIPs ?? []).map((ip) => `${ip} . ${s.protocol} . ${s.port}`);
  if (s.endpoints.length === 0) {
    for (const k of [key, ...externals]) elements['no-endpoint-ips'].set(k, '');
    if (s.nodePort) elements['no-endpoint-node-ports'].set(`${s.protocol} . ${s.nodePort}`, '');
    return f;
  }
  // a pod reaches itself through its Service only on its own node: only this node's endpoints can hairpin
  for (const e of s.endpoints) if (e.local) elements.hairpin.set(`${e.ip} . ${e.ip}`, '');
  const local = s.endpoints.filter((e) => e.local);
  const clusterPool = s.internalLocal ? local : s.endpoints;
  const externalPool = s.externalLocal ? local : s.endpoints;
  if (s.affinitySeconds) return affinityFragment(s, f, { key, externals, clusterPool, externalPool, cidr: opts.clusterCidr });

  // an empty Local pool drops: there is nowhere on this node to send it
  const verdict = (kind: PickerKind, pool: typeof s.endpoints) => (pool.length ? `goto ${picker(f, kind, pool.length, opts.clusterCidr)}` : 'drop');
  const fill = (map: 'endpoints' | 'node-port-endpoints', prefix: string, pool: typeof s.endpoints) =>
    pool.forEach((e, i) => elements[map].set(`${prefix} . ${i}`, `${e.ip} . ${e.port}`));
  elements['cluster-ips'].set(key, verdict('cluster', clusterPool));
  fill('endpoints', key, clusterPool);
  for (const x of externals) {
    elements['cluster-ips'].set(x, verdict(s.externalLocal ? 'external-local' : 'external', externalPool));
    fill('endpoints', x, externalPool);
  }
  if (s.nodePort) {
    const np = `${s.protocol} . ${s.nodePort}`;
    elements['node-ports'].set(np, verdict(s.externalLocal ? 'node-port-local' : 'node-port', externalPool));
    fill('node-port-endpoints', np, externalPool);
  }
  return f;
}

/** Session affinity: chains of the Service's own, and a chain and timed set per endpoint. */
function affinityFragment(
  s: ServicePortRule,
  f: Fragment,
  c: { key: string; externals: string[]; clusterPool: ServicePortRule['endpoints']; externalPool: ServicePortRule['endpoints']; cidr: string },
): Fragment {
  const h = short(s.id);
  // the timeout is part of an endpoint's name: a new timeout is a new set, not one changed in place
  const chainOf = (e: { ip: string; port: number }) => `ep-${short(`${s.id}/${e.ip}:${e.port}/${s.affinitySeconds}`)}`;
  for (const e of s.endpoints) {
    const chain = chainOf(e);
    f.affinitySets.set(chain, `    type ipv4_addr\n    flags dynamic,timeout\n    timeout ${s.affinitySeconds}s`);
    f.chains.set(
      chain,
      [`    comment "${s.id} -> ${e.ip}:${e.port}"`, `    update @${chain} { ip saddr }`, `    meta l4proto ${s.protocol} dnat to ${e.ip}:${e.port}`].join(
        '\n',
      ),
    );
  }
  const chooser = (name: string, comment: string, pool: ServicePortRule['endpoints'], head: string[]) => {
    const sticky = pool.map((e) => `    ip saddr @${chainOf(e)} goto ${chainOf(e)}`);
    const pick = pool.length ? [`    numgen random mod ${pool.length} vmap { ${pool.map((e, i) => `${i} : goto ${chainOf(e)}`).join(', ')} }`] : ['    drop'];
    f.chains.set(name, [`    comment "${comment}"`, ...head, ...sticky, ...pick].join('\n'));
  };
  chooser(`svc-${h}`, s.id, c.clusterPool, [`    ip saddr != ${c.cidr} ${MARK_FOR_MASQUERADE}`]);
  f.elements['cluster-ips'].set(c.key, `goto svc-${h}`);
  if (s.nodePort || c.externals.length) {
    if (s.externalLocal) chooser(`ext-${h}`, `${s.id} external (Local)`, c.externalPool, []);
    else f.chains.set(`ext-${h}`, [`    comment "${s.id} external"`, `    ${MARK_FOR_MASQUERADE}`, `    goto svc-${h}`].join('\n'));
    if (s.nodePort) f.elements['node-ports'].set(`${s.protocol} . ${s.nodePort}`, `goto ext-${h}`);
    for (const x of c.externals) f.elements['cluster-ips'].set(x, `goto ext-${h}`);
  }
  return f;
}
