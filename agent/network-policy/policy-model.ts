import { createHash } from 'node:crypto';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import { fromObjectSelector, matchesLabels, namedContainerPort, type LabelSelector, type ObjectLabelSelector } from '../../apimachinery/index.ts';

// NetworkPolicy as nftables rules for the pods of one node: a pod that a
// policy selects for ingress (egress) is isolated that way, and may receive
// (send) only what some rule of some policy selecting it allows; peers are
// resolved to the addresses of the pods they select now, held in named sets
// shared by every rule with the same peer. Established and related traffic
// always passes, and traffic is judged in the forward hook, after a
// Service's DNAT. The table is a model (sets, per-pod chains, the maps from a
// pod's address to its chains) named by what things mean, not by their
// place, so that two models differ only where the world did: a pod's new
// labels move its address between sets and change nothing else.

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

/** What a peer lets in or out: the pods it selects (named by what selects them), or an address block with its exceptions. */
type PeerMatch = { key: string; pods: Pod[] } | { cidr: string; except: string[] };

/** The world indexed for one render: pods and policies by namespace, and each peer resolved once. */
class WorldIndex {
  readonly world: PolicyWorld;
  readonly #pods = new Map<string, Pod[]>();
  readonly #policies = new Map<string, NetworkPolicy[]>();
  readonly #peers = new Map<NetworkPolicyPeer, PeerMatch>();
  readonly #peersByKey = new Map<string, PeerMatch>();

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
      const key = JSON.stringify([peer.namespaceSelector ? '' : policyNamespace, peer.namespaceSelector ?? null, peer.podSelector ?? null]);
      // many policies name the same peer (a team's namespaces, an app's pods): its pods are found once
      match = this.#peersByKey.get(key);
      if (!match) {
        const namespaces = peer.namespaceSelector
          ? this.world.namespaces.filter((n) => selectorMatches(peer.namespaceSelector, n.metadata?.labels)).map((n) => n.metadata?.name ?? '')
          : [policyNamespace];
        const pods = namespaces.flatMap((ns) => this.#pods.get(ns) ?? []);
        match = { key, pods: peer.podSelector ? pods.filter((p) => selectorMatches(peer.podSelector, p.metadata?.labels)) : pods };
        this.#peersByKey.set(key, match);
      }
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
 * The named sets of pod addresses the rules refer to, one per peer meaning
 * (its namespace and selectors, or one pod for a named port of egress): every
 * rule with the same peer shares its set, a lookup in it costs the same
 * however many refer to it, and its name stays while pods come and go.
 */
class AddressSets {
  readonly sets = new Map<string, string[]>();
  /** each key's set name, worked out once per model (every pod a peer reaches asks for it) */
  readonly #names = new Map<string, string>();

  /** The name of the set of a peer's pods (`key` says what selects them). */
  of(key: string, pods: Pod[]): string {
    let name = this.#names.get(key);
    if (!name) {
      name = `peers-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
      this.#names.set(key, name);
      this.sets.set(name, [...new Set(pods.map((p) => p.status?.podIP as string))].sort());
    }
    return name;
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
      // a peer that selects no pod now adds no rule (10,000 rules over empty sets made a full write of the bench's table 2.5 times slower)
      if (!peer.pods.length) continue;
      if (ingress || !namedPorts) groups.push({ address: `ip ${field} @${o.sets.of(peer.key, peer.pods)}`, portsOf: ingress ? o.pod : undefined });
      else for (const p of peer.pods) groups.push({ address: `ip ${field} @${o.sets.of(`pod ${p.metadata?.uid}`, [p])}`, portsOf: p });
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

/** The policy table of one node: address sets, a chain per isolated pod and direction, and the maps sending a pod's traffic to them. */
export interface PolicyTableModel {
  /** set name → its addresses, sorted */
  sets: Map<string, string[]>;
  /** chain name → its body (comment and rules, one per line) */
  chains: Map<string, string>;
  /** pod address → the verdict (a jump to its chain), per direction */
  ingress: Map<string, string>;
  egress: Map<string, string>;
}

/** The table the world asks for on this node. */
export function policyTableModel(world: PolicyWorld): PolicyTableModel {
  const local = world.pods.filter((p) => p.spec?.nodeName === world.nodeName && networked(p));
  const sets = new AddressSets();
  const index = new WorldIndex(world);
  const model: PolicyTableModel = { sets: sets.sets, chains: new Map(), ingress: new Map(), egress: new Map() };
  for (const pod of local) {
    for (const direction of ['ingress', 'egress'] as const) {
      const body = podChain(pod, direction, index, sets);
      if (!body) continue;
      const name = `${direction === 'ingress' ? 'in' : 'out'}-${pod.metadata?.uid}`;
      model.chains.set(name, [`comment "${pod.metadata?.namespace}/${pod.metadata?.name} ${direction}"`, ...body].map((r) => `    ${r}`).join('\n'));
      model[direction].set(pod.status?.podIP as string, `jump ${name}`);
    }
  }
  return model;
}

const setBlock = (name: string, elements: string[]) =>
  `  set ${name} {\n    type ipv4_addr\n${elements.length ? `    elements = { ${elements.join(', ')} }\n` : ''}  }`;
const chainBlock = (name: string, body: string) => `  chain ${name} {\n${body}\n  }`;
const verdicts = (m: Map<string, string>) => [...m].map(([ip, verdict]) => `${ip} : ${verdict}`).join(', ');

/** The whole policy table as one `nft -f` script (created, emptied and defined anew in one transaction). */
export function renderPolicyTable(table: string, model: PolicyTableModel): string {
  const map = (name: Direction) =>
    `  map ${name} {\n    type ipv4_addr : verdict\n${model[name].size ? `    elements = { ${verdicts(model[name])} }\n` : ''}  }`;
  return `add table ip ${table}
delete table ip ${table}
table ip ${table} {
${[...[...model.sets].map(([name, elements]) => setBlock(name, elements)), ...[...model.chains].map(([name, body]) => chainBlock(name, body))].join('\n')}
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

/** Keys that went, came or changed from one map to the next. */
function changes<V>(prev: Map<string, V>, next: Map<string, V>, same: (a: V, b: V) => boolean) {
  const gone = [...prev.keys()].filter((k) => !next.has(k));
  const added = [...next.keys()].filter((k) => !prev.has(k));
  const changed = [...next.keys()].filter((k) => prev.has(k) && !same(prev.get(k) as V, next.get(k) as V));
  return { gone, added, changed };
}

/**
 * What turns the table of `prev` into that of `next`, as one transaction
 * ('' when they are the same): map elements that go or change are deleted
 * and chains that go flushed (so nothing refers to what is deleted), new sets
 * made and every set's elements brought up to date, changed chains refilled
 * and new ones made, map elements added, and the chains and sets that went
 * deleted last.
 */
export function renderPolicyDelta(table: string, prev: PolicyTableModel, next: PolicyTableModel): string {
  const t = table;
  const lines: string[] = [];
  const maps = { ingress: changes(prev.ingress, next.ingress, (a, b) => a === b), egress: changes(prev.egress, next.egress, (a, b) => a === b) };
  const sets = changes(prev.sets, next.sets, (a, b) => a.join() === b.join());
  const chains = changes(prev.chains, next.chains, (a, b) => a === b);
  for (const d of ['ingress', 'egress'] as const) {
    const out = [...maps[d].gone, ...maps[d].changed];
    if (out.length) lines.push(`delete element ip ${t} ${d} { ${out.join(', ')} }`);
  }
  for (const c of chains.gone) lines.push(`flush chain ip ${t} ${c}`);
  for (const name of sets.added) lines.push(`add set ip ${t} ${name} { type ipv4_addr; }`);
  for (const name of [...sets.added, ...sets.changed]) {
    const before = new Set(prev.sets.get(name));
    const after = new Set(next.sets.get(name));
    const removed = [...before].filter((ip) => !after.has(ip));
    const added = [...after].filter((ip) => !before.has(ip));
    if (removed.length) lines.push(`delete element ip ${t} ${name} { ${removed.join(', ')} }`);
    if (added.length) lines.push(`add element ip ${t} ${name} { ${added.join(', ')} }`);
  }
  for (const c of chains.changed) lines.push(`flush chain ip ${t} ${c}`);
  const filled = [...chains.added, ...chains.changed];
  if (filled.length) lines.push(`table ip ${t} {`, ...filled.map((c) => chainBlock(c, next.chains.get(c) as string)), '}');
  for (const d of ['ingress', 'egress'] as const) {
    const into = [...maps[d].added, ...maps[d].changed];
    if (into.length) lines.push(`add element ip ${t} ${d} { ${verdicts(new Map(into.map((ip) => [ip, next[d].get(ip) as string])))} }`);
  }
  for (const c of chains.gone) lines.push(`delete chain ip ${t} ${c}`);
  for (const name of sets.gone) lines.push(`delete set ip ${t} ${name}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}
