// Plugins about where other pods are: PodTopologySpread and InterPodAffinity.
import type { Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { HOSTNAME_LABEL, fromObjectSelector, matchesLabels, nodeMatchesPod, type LabelSelector } from '../../../apimachinery/index.ts';
import type { SchedulerCache } from '../cache.ts';
import { MAX_NODE_SCORE, type CycleState, type FilterPlugin, type ScorePlugin } from '../framework.ts';

const HOSTNAME = HOSTNAME_LABEL;
const ZONE = 'topology.kubernetes.io/zone';

/** Min–max scaling to 0..100, where the smallest raw score is best. */
function normalizeLowestBest(scores: number[]): void {
  const max = Math.max(...scores);
  const min = Math.min(...scores);
  for (let i = 0; i < scores.length; i++) scores[i] = max === min ? MAX_NODE_SCORE : ((max - (scores[i] as number)) * MAX_NODE_SCORE) / (max - min);
}

const isLive = (p: Pod) => !p.metadata?.deletionTimestamp;

// ---- PodTopologySpread ----

interface Spread {
  key: string;
  maxSkew: number;
  minDomains: number;
  /** how many matching pods each domain (value of `key`) holds */
  counts: Map<string, number>;
  /** does the incoming pod count for its own constraint? */
  self: number;
}

function selectorOf(sel: Parameters<typeof fromObjectSelector>[0] | undefined): LabelSelector | null {
  try {
    return sel ? fromObjectSelector(sel) : null;
  } catch {
    return null;
  }
}

/** Pods matching `selector` in the pod's namespace, counted per domain over the nodes the pod could go to. */
function countDomains(state: CycleState, key: string, selector: LabelSelector | null): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of state.cache.nodes.values()) {
    const domain = node.node.metadata?.labels?.[key];
    if (domain === undefined || !nodeMatchesPod(state.pod, node.node)) continue;
    let n = counts.get(domain) ?? 0;
    if (selector) {
      for (const p of node.pods.values())
        if (isLive(p) && p.metadata?.namespace === state.pod.metadata?.namespace && matchesLabels(selector, p.metadata?.labels)) n++;
    }
    counts.set(domain, n);
  }
  return counts;
}

function spreads(state: CycleState, when: 'DoNotSchedule' | 'ScheduleAnyway'): Spread[] {
  const out: Spread[] = [];
  for (const c of state.pod.spec?.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== when) continue;
    const selector = selectorOf(c.labelSelector);
    const counts = countDomains(state, c.topologyKey, selector);
    out.push({
      key: c.topologyKey,
      maxSkew: c.maxSkew,
      minDomains: c.minDomains ?? 1,
      counts,
      self: selector && matchesLabels(selector, state.pod.metadata?.labels) ? 1 : 0,
    });
  }
  return out;
}

/**
 * Kubernetes' default spreading for pods of a controller that set no
 * constraints: by hostname (maxSkew 3) and zone (maxSkew 5), soft, counting
 * the pods of the same controller (from the cache's per-owner counts).
 */
function defaultSpreads(state: CycleState, cache: SchedulerCache): Spread[] {
  const owner = state.pod.metadata?.ownerReferences?.find((r) => r.controller && ['ReplicaSet', 'StatefulSet', 'ReplicationController'].includes(r.kind));
  if (!owner) return [];
  const perNode = cache.ownerCounts(owner.uid);
  return [HOSTNAME, ZONE]
    .map((key, i) => {
      const counts = new Map<string, number>();
      for (const node of cache.nodes.values()) {
        const domain = node.node.metadata?.labels?.[key];
        if (domain !== undefined) counts.set(domain, (counts.get(domain) ?? 0) + (perNode?.get(node.name) ?? 0));
      }
      return { key, maxSkew: i === 0 ? 3 : 5, minDomains: 1, counts, self: 1 };
    })
    .filter((s) => s.counts.size > 0);
}

export const podTopologySpread: FilterPlugin & ScorePlugin = {
  name: 'PodTopologySpread',
  preFilter(state) {
    const hard = spreads(state, 'DoNotSchedule');
    state.data.set('PodTopologySpread/hard', hard);
    return hard.length ? undefined : 'skip';
  },
  filter(state, node) {
    for (const s of state.data.get('PodTopologySpread/hard') as Spread[]) {
      const domain = node.node.metadata?.labels?.[s.key];
      if (domain === undefined) return { reason: "node(s) didn't match pod topology spread constraints (missing required label)", unresolvable: true };
      const min = s.counts.size < s.minDomains ? 0 : Math.min(...s.counts.values());
      if ((s.counts.get(domain) ?? 0) + s.self - min > s.maxSkew) return { reason: "node(s) didn't match pod topology spread constraints" };
    }
    return null;
  },
  preScore(state) {
    const soft = spreads(state, 'ScheduleAnyway');
    const all = soft.length || state.pod.spec?.topologySpreadConstraints?.length ? soft : defaultSpreads(state, state.cache);
    state.data.set('PodTopologySpread/soft', all);
    return all.length ? undefined : 'skip';
  },
  /** matching pods already in the node's domains, each constraint weighted by log(domains + 2): fewer is better */
  score(state, node) {
    let sum = 0;
    for (const s of state.data.get('PodTopologySpread/soft') as Spread[]) {
      const domain = node.node.metadata?.labels?.[s.key];
      if (domain !== undefined) sum += ((s.counts.get(domain) ?? 0) + s.maxSkew - 1) * Math.log(s.counts.size + 2);
    }
    return sum;
  },
  normalize: normalizeLowestBest,
};

// ---- InterPodAffinity ----

interface Term {
  key: string;
  selector: LabelSelector | null;
  namespaces: Set<string>;
  weight: number;
}

function term(t: PodAffinityTerm, ownNamespace: string, weight = 1): Term {
  return { key: t.topologyKey, selector: selectorOf(t.labelSelector), namespaces: new Set(t.namespaces?.length ? t.namespaces : [ownNamespace]), weight };
}

const termMatchesPod = (t: Term, p: Pod) =>
  t.selector !== null && t.namespaces.has(p.metadata?.namespace ?? '') && matchesLabels(t.selector, p.metadata?.labels);

/** For each term, how many matching pods each of its domains holds. */
function termDomains(cache: SchedulerCache, terms: Term[]): Map<string, number>[] {
  const out = terms.map(() => new Map<string, number>());
  if (terms.length === 0) return out;
  for (const [p, node] of cache.pods()) {
    if (!isLive(p)) continue;
    terms.forEach((t, i) => {
      const domain = node.node.metadata?.labels?.[t.key];
      if (domain !== undefined && termMatchesPod(t, p)) out[i]?.set(domain, (out[i]?.get(domain) ?? 0) + 1);
    });
  }
  return out;
}

interface AffinityState {
  affinity: Term[];
  affinityDomains: Map<string, number>[];
  /** no pod matches the affinity terms yet but the pod matches them itself: the first of its group may go anywhere */
  firstOfGroup: boolean;
  anti: Term[];
  antiDomains: Map<string, number>[];
  /** `key=value` domains where an existing pod's anti-affinity forbids this pod */
  forbiddenByExisting: Set<string>;
}

export const interPodAffinity: FilterPlugin & ScorePlugin = {
  name: 'InterPodAffinity',
  preFilter(state) {
    const ns = state.pod.metadata?.namespace ?? 'default';
    const a = state.pod.spec?.affinity;
    const affinity = (a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => term(t, ns));
    const anti = (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => term(t, ns));
    const forbiddenByExisting = new Set<string>();
    for (const [p, node] of state.cache.podsWithAntiAffinity()) {
      for (const t of p.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
        const et = term(t, p.metadata?.namespace ?? 'default');
        const domain = node.node.metadata?.labels?.[et.key];
        if (domain !== undefined && termMatchesPod(et, state.pod)) forbiddenByExisting.add(`${et.key}=${domain}`);
      }
    }
    if (!affinity.length && !anti.length && !forbiddenByExisting.size) return 'skip';
    const affinityDomains = termDomains(state.cache, affinity);
    const firstOfGroup = affinityDomains.every((d) => d.size === 0) && affinity.every((t) => termMatchesPod(t, state.pod));
    state.data.set('InterPodAffinity', {
      affinity,
      affinityDomains,
      firstOfGroup,
      anti,
      antiDomains: termDomains(state.cache, anti),
      forbiddenByExisting,
    } satisfies AffinityState);
    return undefined;
  },
  filter(state, node) {
    const s = state.data.get('InterPodAffinity') as AffinityState;
    const labels = node.node.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(labels))
      if (s.forbiddenByExisting.has(`${key}=${value}`)) return { reason: "node(s) didn't satisfy existing pods anti-affinity rules" };
    if (!s.firstOfGroup) {
      for (const [i, t] of s.affinity.entries()) {
        const domain = labels[t.key];
        if (domain === undefined || !s.affinityDomains[i]?.get(domain)) return { reason: "node(s) didn't match pod affinity rules", unresolvable: true };
      }
    }
    for (const [i, t] of s.anti.entries()) {
      const domain = labels[t.key];
      if (domain !== undefined && s.antiDomains[i]?.get(domain)) return { reason: "node(s) didn't match pod anti-affinity rules" };
    }
    return null;
  },
  preScore(state) {
    const ns = state.pod.metadata?.namespace ?? 'default';
    const a = state.pod.spec?.affinity;
    const terms = [
      ...(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => term(w.podAffinityTerm, ns, w.weight)),
      ...(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => term(w.podAffinityTerm, ns, -w.weight)),
    ];
    if (!terms.length) return 'skip';
    state.data.set('InterPodAffinity/score', { terms, domains: termDomains(state.cache, terms) });
    return undefined;
  },
  /** the preferred terms' weights times the matching pods in the node's domains (anti-affinity counts negative) */
  score(state, node) {
    const { terms, domains } = state.data.get('InterPodAffinity/score') as { terms: Term[]; domains: Map<string, number>[] };
    let sum = 0;
    terms.forEach((t, i) => {
      const domain = node.node.metadata?.labels?.[t.key];
      if (domain !== undefined) sum += t.weight * (domains[i]?.get(domain) ?? 0);
    });
    return sum;
  },
  normalize(scores) {
    const max = Math.max(...scores);
    const min = Math.min(...scores);
    for (let i = 0; i < scores.length; i++) scores[i] = max === min ? 0 : (((scores[i] as number) - min) * MAX_NODE_SCORE) / (max - min);
  },
};
