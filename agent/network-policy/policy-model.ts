import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import { fromObjectSelector, matchesLabels, namedContainerPort, type LabelSelector, type ObjectLabelSelector } from '../../apimachinery/index.ts';

// NetworkPolicy as nftables rules for the pods of one node: a pod that a
// policy selects for ingress (egress) is isolated that way, and may receive
// (send) only what some rule of some policy selecting it allows; peers are
// resolved to the addresses of the pods they select now, held in named sets
// shared by every rule with the same peers. The table is
// rendered whole; established and related traffic always passes, and traffic
// is judged in the forward hook, after a Service's DNAT.

export interface PolicyWorld {
  policies: NetworkPolicy[];
  /** every pod of the cluster (peers), with the node's own among them */
  pods: Pod[];
  namespaces: Namespace[];
  /** the name of this node: its pods are the ones isolated here */
  nodeName: string;
}

type Direction = 'ingress' | 'egress';
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/** Selectors parsed once per object (the informers hand out the same objects until they change). */
const parsedSelectors = new WeakMap<ObjectLabelSelector, LabelSelector>();
const EVERYTHING: LabelSelector = [];

function selectorMatches(sel: ObjectLabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel) return matchesLabels(EVERYTHING, labels);
  let parsed = parsedSelectors.get(sel);
  if (!parsed) parsedSelectors.set(sel, (parsed = fromObjectSelector(sel)));
  return matchesLabels(parsed, labels);
}

/** Pods that take part in policy: with an address of their own, and not finished. */
const networked = (p: Pod) => !!p.status?.podIP && !p.spec?.hostNetwork && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

/** The policy types a policy has, with Kubernetes' defaults (Ingress always; Egress when it has egress rules). */
export function policyTypes(p: NetworkPolicy): Direction[] {
  const given = p.spec?.policyTypes;
  if (given?.length) return given.map((t) => t.toLowerCase() as Direction);
  return (p.spec?.egress?.length ?? 0) > 0 ? ['ingress', 'egress'] : ['ingress'];
}

/** What a peer lets in or out: the pods it selects, or an address block with its exceptions. */
type PeerMatch = { pods: Pod[] } | { cidr: string; except: string[] };

/** The world indexed for one render: pods and policies by namespace, and each peer resolved once. */
class WorldIndex {
  readonly world: PolicyWorld;
  readonly #pods = new Map<string, Pod[]>();
  readonly #policies = new Map<string, NetworkPolicy[]>();
  readonly #peers = new Map<NetworkPolicyPeer, PeerMatch>();

  constructor(world: PolicyWorld) {
    this.world = world;
    for (const p of world.pods) if (networked(p)) push(this.#pods, p.metadata?.namespace ?? '', p);
    for (const p of world.policies) push(this.#policies, p.metadata?.namespace ?? '', p);
  }

  /** The policies of a pod's namespace that select it. */
  policiesSelecting(pod: Pod): NetworkPolicy[] {
    return (this.#policies.get(pod.metadata?.namespace ?? '') ?? []).filter((p) => selectorMatches(p.spec?.podSelector, pod.metadata?.labels));
  }

  peer(peer: NetworkPolicyPeer, policyNamespace: string): PeerMatch {
    let match = this.#peers.get(peer);
    if (match) return match;
    if (peer.ipBlock) match = { cidr: peer.ipBlock.cidr, except: peer.ipBlock.except ?? [] };
    else {
      const namespaces = peer.namespaceSelector
        ? this.world.namespaces.filter((n) => selectorMatches(peer.namespaceSelector, n.metadata?.labels)).map((n) => n.metadata?.name ?? '')
        : [policyNamespace];
      const pods = namespaces.flatMap((ns) => this.#pods.get(ns) ?? []);
      match = { pods: peer.podSelector ? pods.filter((p) => selectorMatches(peer.podSelector, p.metadata?.labels)) : pods };
    }
    this.#peers.set(peer, match);
    return match;
  }
}

function push<T>(index: Map<string, T[]>, key: string, value: T): void {
  const list = index.get(key);
  if (list) list.push(value);
  else index.set(key, [value]);
}

/** A port spec as an nft match against `target`'s ports (a named port is looked up in its containers); undefined when a name resolves to nothing. */
function portMatch(port: NetworkPolicyPort, target: Pod | undefined): string | undefined {
  const protocol = (port.protocol ?? 'TCP') as (typeof PROTOCOLS)[number];
  const l4 = protocol.toLowerCase();
  if (port.port === undefined) return `meta l4proto ${l4}`;
  let number = port.port;
  if (typeof number === 'string') {
    const named = namedContainerPort(target?.spec, number, protocol);
    if (named === undefined) return undefined;
    number = named;
  }
  return `${l4} dport ${port.endPort && port.endPort > number ? `${number}-${port.endPort}` : number}`;
}

/**
 * The named sets of pod addresses the rules refer to, one per distinct list
 * of addresses: the peers many policies share (a namespace's pods, an app's)
 * are one set, and a lookup in it costs the same however many refer to it.
 */
class AddressSets {
  readonly #byKey = new Map<string, string>();
  readonly #declared: string[] = [];
  /** the set of each list of pods already asked for (a peer's pods are asked for by every pod it reaches) */
  readonly #byPods = new WeakMap<Pod[], string>();

  /** The name of the set holding these pods' addresses. */
  ofPods(pods: Pod[]): string {
    let name = this.#byPods.get(pods);
    if (!name) this.#byPods.set(pods, (name = this.of(pods.map((p) => p.status?.podIP as string))));
    return name;
  }

  /** The name of the set holding exactly these addresses. */
  of(ips: string[]): string {
    const elements = [...new Set(ips)].sort();
    const key = elements.join(',');
    let name = this.#byKey.get(key);
    if (!name) {
      name = `peers-${this.#byKey.size}`;
      this.#byKey.set(key, name);
      this.#declared.push(`  set ${name} {\n    type ipv4_addr\n    elements = { ${elements.join(', ')} }\n  }`);
    }
    return name;
  }

  get declarations(): string[] {
    return this.#declared;
  }
}

/** The nft matches of one rule's peers and ports, for a pod isolated in `direction`. */
function ruleMatches(o: {
  direction: Direction;
  peers: NetworkPolicyPeer[] | undefined;
  ports: NetworkPolicyPort[] | undefined;
  policyNamespace: string;
  pod: Pod;
  index: WorldIndex;
  sets: AddressSets;
}): string[] {
  const field = o.direction === 'ingress' ? 'saddr' : 'daddr';
  const ingress = o.direction === 'ingress';
  const namedPorts = (o.ports ?? []).some((p) => typeof p.port === 'string');
  // who a named port is looked up on: this pod for ingress, each destination pod for egress (unknown for an address block)
  const groups: { address: string; portsOf: Pod | undefined }[] = [];
  for (const peer of o.peers?.length ? o.peers.map((p) => o.index.peer(p, o.policyNamespace)) : [undefined]) {
    if (!peer) groups.push({ address: '', portsOf: ingress ? o.pod : undefined });
    else if ('cidr' in peer) {
      const except = peer.except.length ? ` ip ${field} != { ${peer.except.join(', ')} }` : '';
      groups.push({ address: `ip ${field} ${peer.cidr}${except}`, portsOf: ingress ? o.pod : undefined });
    } else {
      const address = (pods: Pod[]) => `ip ${field} @${o.sets.ofPods(pods)}`;
      if (!peer.pods.length) continue;
      if (ingress || !namedPorts) groups.push({ address: address(peer.pods), portsOf: ingress ? o.pod : undefined });
      else for (const p of peer.pods) groups.push({ address: address([p]), portsOf: p });
    }
  }
  const out: string[] = [];
  for (const g of groups) {
    const ports = o.ports?.length ? o.ports.map((p) => portMatch(p, g.portsOf)) : [''];
    for (const port of ports) if (port !== undefined) out.push([g.address, port].filter(Boolean).join(' '));
  }
  return out;
}

/** The chain body deciding one pod's traffic in one direction; undefined when no policy isolates it that way. */
function podChain(pod: Pod, direction: Direction, index: WorldIndex, sets: AddressSets): string[] | undefined {
  const isolating = index.policiesSelecting(pod).filter((p) => policyTypes(p).includes(direction));
  if (!isolating.length) return undefined;
  // allowed ingress is the last word (accept); allowed egress goes on to the destination's ingress check (return)
  const allowed = direction === 'ingress' ? 'accept' : 'return';
  const rules: string[] = [];
  for (const policy of isolating) {
    const policyNamespace = policy.metadata?.namespace ?? '';
    for (const rule of (direction === 'ingress' ? policy.spec?.ingress : policy.spec?.egress) ?? []) {
      const peers = direction === 'ingress' ? (rule as { from?: NetworkPolicyPeer[] }).from : (rule as { to?: NetworkPolicyPeer[] }).to;
      for (const m of ruleMatches({ direction, peers, ports: rule.ports, policyNamespace, pod, index, sets })) rules.push(m ? `${m} ${allowed}` : allowed);
    }
  }
  rules.push('drop');
  return rules;
}

/** The whole policy table as one `nft -f` script (created, emptied and defined anew in one transaction). */
export function renderPolicyTable(table: string, world: PolicyWorld): string {
  const local = world.pods
    .filter((p) => p.spec?.nodeName === world.nodeName && networked(p))
    .sort((a, b) => (a.metadata?.uid ?? '').localeCompare(b.metadata?.uid ?? ''));
  const chains: string[] = [];
  const sets = new AddressSets();
  const index = new WorldIndex(world);
  const maps: Record<Direction, string[]> = { ingress: [], egress: [] };
  local.forEach((pod, i) => {
    for (const direction of ['ingress', 'egress'] as const) {
      const body = podChain(pod, direction, index, sets);
      if (!body) continue;
      const name = `${direction === 'ingress' ? 'in' : 'out'}-${i}`;
      chains.push(
        `  chain ${name} {\n    comment "${pod.metadata?.namespace}/${pod.metadata?.name} ${direction}"\n${body.map((r) => `    ${r}`).join('\n')}\n  }`,
      );
      maps[direction].push(`${pod.status?.podIP} : jump ${name}`);
    }
  });
  const map = (name: Direction) =>
    `  map ${name} {\n    type ipv4_addr : verdict\n${maps[name].length ? `    elements = { ${maps[name].join(', ')} }\n` : ''}  }`;
  return `add table ip ${table}
delete table ip ${table}
table ip ${table} {
${[...sets.declarations, ...chains].join('\n')}
${map('ingress')}
${map('egress')}
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
    ip saddr vmap @egress
    ip daddr vmap @ingress
  }
}
`;
}
