import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, matchesLabels, parseLabelSelector } from '../../apimachinery/index.ts';
import { kubeletGet, type KubeletClientConfig } from './pod-log.ts';
import type { Registry } from './registry.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
const API_VERSION = 'metrics.k8s.io/v1beta1';
const WINDOW = '10s';

interface Usage {
  time?: string;
  usageNanoCores?: number;
}
interface Summary {
  node: { cpu?: Usage; memory?: { time?: string; workingSetBytes?: number } };
  pods: Array<{ podRef: { name: string; namespace: string }; containers: Array<{ name: string; cpu?: Usage; memory?: { workingSetBytes?: number } }> }>;
}

const usage = (cpu: Usage | undefined, memory: { workingSetBytes?: number } | undefined) => ({
  cpu: `${Math.round(cpu?.usageNanoCores ?? 0)}n`,
  memory: `${Math.round((memory?.workingSetBytes ?? 0) / 1024)}Ki`,
});

async function fetchSummary(nodes: Registry, nodeName: string, kubelet: KubeletClientConfig): Promise<Summary> {
  const res = await kubeletGet({ nodes, nodeName, path: '/stats/summary', kubelet, timeoutMs: 10_000 });
  let body = '';
  res.setEncoding('utf8');
  for await (const chunk of res) body += chunk as string;
  if (res.statusCode !== 200) throw new Error(`kubelet on ${nodeName} answered ${res.statusCode}`);
  return JSON.parse(body) as Summary;
}

/** A summary with CPU rates: the kubelet has one after its second look at a cgroup, so a first summary is read again a second later. */
async function summaryWithRates(nodes: Registry, nodeName: string, kubelet: KubeletClientConfig): Promise<Summary> {
  const first = await fetchSummary(nodes, nodeName, kubelet);
  if (first.node.cpu?.usageNanoCores !== undefined) return first;
  await new Promise((r) => setTimeout(r, 1000));
  return fetchSummary(nodes, nodeName, kubelet);
}

/**
 * The resource metrics API (metrics.k8s.io/v1beta1 NodeMetrics and
 * PodMetrics, what `kubectl top` reads), served by the API server itself
 * from the kubelets' stats summaries — the part of metrics-server a
 * single binary needs. Nodes that do not answer are left out.
 */
export async function serveResourceMetrics(a: {
  nodes: Registry;
  pods: Registry;
  kubelet: KubeletClientConfig;
  resource: string;
  namespace?: string;
  name?: string;
  query: URLSearchParams;
}): Promise<object> {
  if (a.resource !== 'nodes' && a.resource !== 'pods') throw new ApiError('NotFound', 'the server could not find the requested resource');
  const selector = parseLabelSelector(a.query.get('labelSelector') ?? '');
  // pods' metrics come only from the nodes the selected pods run on (an autoscaler asks every few seconds)
  const selectedPods =
    a.resource === 'pods'
      ? ((await a.pods.list({ namespace: a.namespace })).items as unknown as Pod[]).filter(
          (p) => (!a.name || p.metadata?.name === a.name) && matchesLabels(selector, p.metadata?.labels),
        )
      : [];
  const podNodes = new Set(selectedPods.map((p) => p.spec?.nodeName));
  const nodeList = ((await a.nodes.list({})).items as unknown as Node[]).filter((n) =>
    a.resource === 'nodes' ? !a.name || n.metadata?.name === a.name : podNodes.has(n.metadata?.name),
  );
  const summaries = new Map<string, Summary>();
  await Promise.all(
    nodeList.map(async (n) => {
      // a node whose kubelet does not answer is left out, as metrics-server leaves it out
      const s = await summaryWithRates(a.nodes, n.metadata?.name ?? '', a.kubelet).catch(() => undefined);
      if (s) summaries.set(n.metadata?.name ?? '', s);
    }),
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (a.resource === 'nodes') {
    const items = nodeList
      .filter((n) => summaries.has(n.metadata?.name ?? '') && matchesLabels(selector, n.metadata?.labels))
      .map((n) => {
        const s = summaries.get(n.metadata?.name ?? '') as Summary;
        return {
          metadata: { name: n.metadata?.name, creationTimestamp: now, labels: n.metadata?.labels },
          timestamp: s.node.cpu?.time ?? now,
          window: WINDOW,
          usage: usage(s.node.cpu, s.node.memory),
        };
      });
    return a.name
      ? single(items, 'nodes', a.name, 'NodeMetrics')
      : { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items: items.map((i) => ({ kind: 'NodeMetrics', apiVersion: API_VERSION, ...i })) };
  }
  const pods = new Map(selectedPods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
  const items = [...summaries.values()]
    .flatMap((s) => s.pods)
    .flatMap((p) => {
      const pod = pods.get(`${p.podRef.namespace}/${p.podRef.name}`);
      if (!pod) return [];
      const time = p.containers[0]?.cpu?.time ?? now;
      return [
        {
          metadata: { name: p.podRef.name, namespace: p.podRef.namespace, creationTimestamp: now, labels: pod.metadata?.labels },
          timestamp: time,
          window: WINDOW,
          containers: p.containers.map((c) => ({ name: c.name, usage: usage(c.cpu, c.memory) })),
        },
      ];
    });
  return a.name
    ? single(items, 'pods', a.name, 'PodMetrics')
    : { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items: items.map((i) => ({ kind: 'PodMetrics', apiVersion: API_VERSION, ...i })) };
}

function single(items: object[], resource: string, name: string, kind: string): object {
  const item = items[0];
  if (!item) throw new ApiError('NotFound', `${resource}.metrics.k8s.io "${name}" not found`);
  return { kind, apiVersion: API_VERSION, ...item };
}
