// Plugins that look at the node alone: NodeName, NodeUnschedulable,
// TaintToleration, NodeAffinity (with nodeSelector) and NodePorts.
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import { nodeMatchesPod, termMatches, tolerates } from '../../../apimachinery/index.ts';
import { hostPorts } from '../cache.ts';
import { normalizeByMax, type FilterPlugin, type ScorePlugin } from '../framework.ts';

export const nodeName: FilterPlugin = {
  name: 'NodeName',
  filter: (state, node) =>
    state.pod.spec?.nodeName && state.pod.spec.nodeName !== node.name ? { reason: "node(s) didn't match the requested node name", unresolvable: true } : null,
};

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(state, node) {
    if (!node.node.spec?.unschedulable) return null;
    const tolerated = (state.pod.spec?.tolerations ?? []).some((t) => tolerates(t, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }));
    return tolerated ? null : { reason: 'node(s) were unschedulable', unresolvable: true };
  },
};

function untolerated(taints: Taint[], state: Parameters<FilterPlugin['filter']>[0], effects: string[]): Taint | undefined {
  const tolerations = state.pod.spec?.tolerations ?? [];
  return taints.find((taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));
}

/**
 * The node's taints, plus the not-ready one the node lifecycle controller is
 * about to add when the node is not Ready yet and carries no readiness taint.
 */
function effectiveTaints(node: Node): Taint[] {
  const taints = node.spec?.taints ?? [];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  if (ready || taints.some((t) => t.key === 'node.kubernetes.io/not-ready' || t.key === 'node.kubernetes.io/unreachable')) return taints;
  return [...taints, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }];
}

export const taintToleration: FilterPlugin & ScorePlugin = {
  name: 'TaintToleration',
  filter(state, node) {
    const taint = untolerated(effectiveTaints(node.node), state, ['NoSchedule', 'NoExecute']);
    return taint ? { reason: `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`, unresolvable: true } : null;
  },
  /** how many PreferNoSchedule taints the pod does not tolerate: fewer is better */
  score(state, node) {
    const tolerations = state.pod.spec?.tolerations ?? [];
    return (node.node.spec?.taints ?? []).filter((t) => t.effect === 'PreferNoSchedule' && !tolerations.some((x) => tolerates(x, t))).length;
  },
  normalize: (scores) => normalizeByMax(scores, true),
};

export const nodeAffinity: FilterPlugin & ScorePlugin = {
  name: 'NodeAffinity',
  preFilter: (state) =>
    state.pod.spec?.nodeSelector || state.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ? undefined : 'skip',
  filter: (state, node) => (nodeMatchesPod(state.pod, node.node) ? null : { reason: "node(s) didn't match Pod's node affinity/selector", unresolvable: true }),
  preScore: (state) => (state.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ? undefined : 'skip'),
  /** the summed weights of the preferred terms the node matches */
  score(state, node) {
    let sum = 0;
    for (const p of state.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
      if (termMatches(p.preference, node.node)) sum += p.weight;
    return sum;
  },
  normalize: (scores) => normalizeByMax(scores),
};

export const nodePorts: FilterPlugin = {
  name: 'NodePorts',
  preFilter(state) {
    const wanted = hostPorts(state.pod);
    state.data.set('NodePorts', wanted);
    return wanted.length ? undefined : 'skip';
  },
  filter(state, node) {
    for (const port of state.data.get('NodePorts') as string[]) {
      const [proto, ip, num] = port.split('/');
      const clash =
        node.usedPorts.has(port) ||
        (ip === '0.0.0.0'
          ? [...node.usedPorts.keys()].some((u) => u.startsWith(`${proto}/`) && u.endsWith(`/${num}`))
          : node.usedPorts.has(`${proto}/0.0.0.0/${num}`));
      if (clash) return { reason: "node(s) didn't have free ports for the requested pod ports" };
    }
    return null;
  },
};
