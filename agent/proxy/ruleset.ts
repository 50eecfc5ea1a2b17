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

/** The maps and sets the fixed chains look packets up in. */
const ELEMENT_SETS = ['cluster-ips', 'node-ports', 'no-endpoint-ips', 'no-endpoint-node-ports', 'hairpin'] as const;
type ElementSet = (typeof ELEMENT_SETS)[number];

/**
 * What the proxy's table holds beyond its fixed chains: one chain per
 * Service port and per endpoint (by name, with their bodies), the
 * affinity sets, and the elements of the lookup maps and sets
 * (key → verdict, or key → '' for plain sets).
 */
export interface ProxyModel {
  chains: Map<string, string>;
  affinitySets: Map<string, string>;
  elements: Record<ElementSet, Map<string, string>>;
}

/** Packets to masquerade carry this mark (kube-proxy's 0x4000). */
const MASQ_MARK = '0x4000';
const MARK_FOR_MASQUERADE = `meta mark set meta mark | ${MASQ_MARK}`;

const short = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/**
 * The proxy's Services as nftables objects. Lookups go through one verdict
 * map for ClusterIPs and one for NodePorts, so a packet's path does not grow
 * with the number of Services; Services without endpoints are rejected from
 * filter chains; endpoints are chosen with numgen; traffic from outside the
 * cluster CIDR, NodePort traffic and hairpin traffic (a pod reaching itself)
 * is masqueraded. Chain
 * names are hashes of what they stand for, so an unchanged Service keeps
 * its chains from one sync to the next.
 */
export function buildModel(services: ServicePortRule[], opts: RulesetOptions): ProxyModel {
  const model: ProxyModel = { chains: new Map(), affinitySets: new Map(), elements: { 'cluster-ips': new Map(), 'node-ports': new Map(), 'no-endpoint-ips': new Map(), 'no-endpoint-node-ports': new Map(), hairpin: new Map() } };
  const { chains, elements } = model;
  for (const s of [...services].sort((a, b) => a.id.localeCompare(b.id))) {
    const key = `${s.clusterIP} . ${s.protocol} . ${s.port}`;
    const externals = (s.externalIPs ?? []).map((ip) => `${ip} . ${s.protocol} . ${s.port}`);
    if (s.endpoints.length === 0) {
      for (const k of [key, ...externals]) elements['no-endpoint-ips'].set(k, '');
      if (s.nodePort) elements['no-endpoint-node-ports'].set(`${s.protocol} . ${s.nodePort}`, '');
      continue;
    }
    // a pod reaching itself through its Service is masqueraded, or it would answer itself from the wrong address
    for (const e of s.endpoints) elements.hairpin.set(`${e.ip} . ${e.ip}`, '');
    const h = short(s.id);
    // the affinity timeout is part of an endpoint's name: a new timeout is a new set, not one changed in place
    const eps = s.endpoints.map((e) => ({ ...e, chain: `ep-${short(`${s.id}/${e.ip}:${e.port}/${s.affinitySeconds ?? 0}`)}` }));
    if (s.affinitySeconds) {
      // session affinity remembers each client per endpoint: those endpoints need chains (and sets) of their own
      for (const e of eps) {
        model.affinitySets.set(e.chain, `    type ipv4_addr\n    flags dynamic,timeout\n    timeout ${s.affinitySeconds}s`);
        chains.set(e.chain, [`    comment "${s.id} -> ${e.ip}:${e.port}"`, `    update @${e.chain} { ip saddr }`, `    meta l4proto ${s.protocol} dnat to ${e.ip}:${e.port}`].join('\n'));
      }
    }
    /**
     * A chain that picks an endpoint at random (sticky clients first, with
     * affinity) and DNATs to it; drops when there is none. Without affinity
     * the pick is one map lookup, not a chain per endpoint: nft resolves
     * chain references by name, and 100,000 endpoint chains made a full
     * sync take minutes.
     */
    const picker = (name: string, comment: string, pool: typeof eps, head: string[]) => {
      let pick: string[];
      if (pool.length === 0) pick = ['    drop'];
      else if (s.affinitySeconds) pick = [...pool.map((e) => `    ip saddr @${e.chain} goto ${e.chain}`), `    numgen random mod ${pool.length} vmap { ${pool.map((e, i) => `${i} : goto ${e.chain}`).join(', ')} }`];
      else pick = [`    meta l4proto ${s.protocol} dnat to numgen random mod ${pool.length} map { ${pool.map((e, i) => `${i} : ${e.ip} . ${e.port}`).join(', ')} }`];
      chains.set(name, [`    comment "${comment}"`, ...head, ...pick].join('\n'));
    };
    const local = eps.filter((e) => e.local);
    picker(`svc-${h}`, s.id, s.internalLocal ? local : eps, [`    ip saddr != ${opts.clusterCidr} ${MARK_FOR_MASQUERADE}`]);
    elements['cluster-ips'].set(key, `goto svc-${h}`);
    if (s.nodePort || externals.length) {
      // NodePort and external traffic: masqueraded and spread over all endpoints, or kept on this node's (Local)
      if (s.externalLocal) picker(`ext-${h}`, `${s.id} external (Local)`, local, []);
      else chains.set(`ext-${h}`, [`    comment "${s.id} external"`, `    ${MARK_FOR_MASQUERADE}`, `    goto svc-${h}`].join('\n'));
      if (s.nodePort) elements['node-ports'].set(`${s.protocol} . ${s.nodePort}`, `goto ext-${h}`);
      for (const x of externals) elements['cluster-ips'].set(x, `goto ext-${h}`);
    }
  }
  return model;
}

const elementList = (m: Map<string, string>) => [...m].map(([k, v]) => (v ? `${k} : ${v}` : k)).join(', ');
const chainBlock = (name: string, body: string) => `  chain ${name} {\n${body}\n  }`;

/**
 * The whole table as one `nft -f` script, applied as a single transaction:
 * the table is created (so the delete cannot fail), deleted and defined anew.
 */
export function renderRuleset(model: ProxyModel, opts: RulesetOptions): string {
  const t = opts.table;
  const elements = (name: ElementSet) => (model.elements[name].size ? `\n    elements = { ${elementList(model.elements[name])} }` : '');
  return `add table ip ${t}
delete table ip ${t}
table ip ${t} {
  comment "skiff service proxy"
  map cluster-ips {
    type ipv4_addr . inet_proto . inet_service : verdict${elements('cluster-ips')}
  }
  map node-ports {
    type inet_proto . inet_service : verdict${elements('node-ports')}
  }
  set no-endpoint-ips {
    type ipv4_addr . inet_proto . inet_service${elements('no-endpoint-ips')}
  }
  set no-endpoint-node-ports {
    type inet_proto . inet_service${elements('no-endpoint-node-ports')}
  }
  set hairpin {
    type ipv4_addr . ipv4_addr${elements('hairpin')}
  }
${[...model.affinitySets].map(([name, body]) => `  set ${name} {\n${body}\n  }`).join('\n')}
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
${[...model.chains].map(([name, body]) => chainBlock(name, body)).join('\n')}
}
`;
}

/**
 * What turns the table from `prev` into `next`, as one transaction touching
 * only what changed (kube-proxy's partial sync): elements that go or change
 * are deleted, chains that go are flushed (so nothing refers to what is
 * deleted), new and changed chains are (re)filled, new elements added, and
 * the chains and sets that went are deleted last. '' when nothing changed.
 */
export function renderUpdate(prev: ProxyModel, next: ProxyModel, table: string): string {
  const t = table;
  const lines: string[] = [];
  const added: string[] = [];
  for (const name of ELEMENT_SETS) {
    const before = prev.elements[name];
    const after = next.elements[name];
    const gone = [...before].filter(([k, v]) => after.get(k) !== v).map(([k]) => k);
    const come = new Map([...after].filter(([k, v]) => before.get(k) !== v));
    if (gone.length) lines.push(`delete element ip ${t} ${name} { ${gone.join(', ')} }`);
    if (come.size) added.push(`add element ip ${t} ${name} { ${elementList(come)} }`);
  }
  const goneChains = [...prev.chains.keys()].filter((c) => !next.chains.has(c));
  for (const c of goneChains) lines.push(`flush chain ip ${t} ${c}`);
  for (const [name, body] of next.affinitySets) if (!prev.affinitySets.has(name)) lines.push(`add set ip ${t} ${name} { ${body.trim().replace(/\n\s*/g, '; ')}; }`);
  const changed = [...next.chains].filter(([name, body]) => prev.chains.get(name) !== body);
  // changed chains are emptied and refilled; new ones are made by the block itself (which sets their comment)
  for (const [name] of changed) if (prev.chains.has(name)) lines.push(`flush chain ip ${t} ${name}`);
  if (changed.length) lines.push(`table ip ${t} {`, ...changed.map(([name, body]) => chainBlock(name, body)), '}');
  lines.push(...added);
  for (const c of goneChains) lines.push(`delete chain ip ${t} ${c}`);
  for (const s of prev.affinitySets.keys()) if (!next.affinitySets.has(s)) lines.push(`delete set ip ${t} ${s}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}
