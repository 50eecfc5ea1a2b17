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

/** Packets to masquerade carry this mark (kube-proxy's 0x4000). */
const MASQ_MARK = '0x4000';

const short = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/**
 * The proxy's whole nftables state as one `nft -f` script, applied as a
 * single transaction: the table is created (so the delete cannot fail),
 * deleted and defined anew. Lookups go through one verdict map for
 * ClusterIPs and one for NodePorts, so a packet's path does not grow with
 * the number of Services; Services without endpoints are rejected from
 * filter chains; endpoints are chosen with numgen; traffic from outside the
 * cluster CIDR, NodePort traffic and hairpin traffic is masqueraded.
 */
export function renderRuleset(services: ServicePortRule[], opts: RulesetOptions): string {
  const t = opts.table;
  const chains: string[] = [];
  const clusterIps: string[] = [];
  const nodePorts: string[] = [];
  const rejectIps: string[] = [];
  const rejectPorts: string[] = [];
  const sets: string[] = [];
  for (const s of [...services].sort((a, b) => a.id.localeCompare(b.id))) {
    const key = `${s.clusterIP} . ${s.protocol} . ${s.port}`;
    const externals = (s.externalIPs ?? []).map((ip) => `${ip} . ${s.protocol} . ${s.port}`);
    if (s.endpoints.length === 0) {
      rejectIps.push(key, ...externals);
      if (s.nodePort) rejectPorts.push(`${s.protocol} . ${s.nodePort}`);
      continue;
    }
    const h = short(s.id);
    const eps = s.endpoints.map((e) => ({ ...e, chain: `ep-${short(`${s.id}/${e.ip}:${e.port}`)}` }));
    for (const e of eps) {
      const affinity = s.affinitySeconds ? [`    update @${e.chain} { ip saddr }`] : [];
      if (s.affinitySeconds) sets.push(`  set ${e.chain} {
    type ipv4_addr
    flags dynamic,timeout
    timeout ${s.affinitySeconds}s
  }`);
      chains.push(`  chain ${e.chain} {
    comment "${s.id} -> ${e.ip}:${e.port}"
    ip saddr ${e.ip} jump mark-for-masquerade
${[...affinity, `    meta l4proto ${s.protocol} dnat to ${e.ip}:${e.port}`].join('\n')}
  }`);
    }
    /** a chain that picks among endpoints: sticky clients first, then at random; drops when there is none */
    const picker = (name: string, comment: string, pool: typeof eps, head: string[]) => {
      const sticky = s.affinitySeconds ? pool.map((e) => `    ip saddr @${e.chain} goto ${e.chain}`) : [];
      const pick = pool.length ? [`    numgen random mod ${pool.length} vmap { ${pool.map((e, i) => `${i} : goto ${e.chain}`).join(', ')} }`] : ['    drop'];
      chains.push(`  chain ${name} {
    comment "${comment}"
${[...head, ...sticky, ...pick].join('\n')}
  }`);
    };
    const local = eps.filter((e) => e.local);
    picker(`svc-${h}`, s.id, s.internalLocal ? local : eps, [`    ip saddr != ${opts.clusterCidr} jump mark-for-masquerade`]);
    clusterIps.push(`${key} : goto svc-${h}`);
    if (s.nodePort || externals.length) {
      // NodePort and external traffic: masqueraded and spread over all endpoints, or kept on this node's (Local)
      if (s.externalLocal) picker(`ext-${h}`, `${s.id} external (Local)`, local, []);
      else chains.push(`  chain ext-${h} {
    comment "${s.id} external"
    jump mark-for-masquerade
    goto svc-${h}
  }`);
      if (s.nodePort) nodePorts.push(`${s.protocol} . ${s.nodePort} : goto ext-${h}`);
      for (const x of externals) clusterIps.push(`${x} : goto ext-${h}`);
    }
  }
  const elements = (items: string[]) => (items.length ? `\n    elements = { ${items.join(', ')} }` : '');
  return `add table ip ${t}
delete table ip ${t}
table ip ${t} {
  comment "skiff service proxy"
  map cluster-ips {
    type ipv4_addr . inet_proto . inet_service : verdict${elements(clusterIps)}
  }
  map node-ports {
    type inet_proto . inet_service : verdict${elements(nodePorts)}
  }
  set no-endpoint-ips {
    type ipv4_addr . inet_proto . inet_service${elements(rejectIps)}
  }
  set no-endpoint-node-ports {
    type inet_proto . inet_service${elements(rejectPorts)}
  }
${sets.join('\n')}
  chain mark-for-masquerade {
    meta mark set meta mark | ${MASQ_MARK}
  }
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
${chains.join('\n')}
}
`;
}
