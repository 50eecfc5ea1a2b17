import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { milliCpu, parseQuantity, tolerates } from '../../apimachinery/index.ts';

/** What a pod asks of a node: millicores, bytes, and one pod slot. */
export interface Request {
  milliCpu: number;
  memory: number;
}

export function podRequest(pod: Pod): Request {
  const sum = { milliCpu: 0, memory: 0 };
  for (const c of pod.spec?.containers ?? []) {
    const r = c.resources?.requests ?? {};
    if (r.cpu !== undefined) sum.milliCpu += milliCpu(r.cpu);
    if (r.memory !== undefined) sum.memory += parseQuantity(r.memory);
  }
  // init containers run one at a time: the largest one counts if it is larger
  for (const c of pod.spec?.initContainers ?? []) {
    const r = c.resources?.requests ?? {};
    if (r.cpu !== undefined) sum.milliCpu = Math.max(sum.milliCpu, milliCpu(r.cpu));
    if (r.memory !== undefined) sum.memory = Math.max(sum.memory, parseQuantity(r.memory));
  }
  return sum;
}

/** Why `node` cannot take `pod`, in kube-scheduler's words; null when it fits. */
export function unfitReason(pod: Pod, node: Node, podsOnNode: Pod[]): string | null {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }";
  if (node.spec?.unschedulable) return 'node(s) were unschedulable';
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!(pod.spec?.tolerations ?? []).some((t) => tolerates(t, taint))) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  }
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (node.metadata?.labels?.[k] !== v) return "node(s) didn't match Pod's node affinity/selector";
  }
  const alloc = node.status?.allocatable ?? {};
  const maxPods = alloc.pods !== undefined ? parseQuantity(alloc.pods) : 110;
  if (podsOnNode.length + 1 > maxPods) return 'Too many pods';
  const used = podsOnNode.map(podRequest).reduce((a, b) => ({ milliCpu: a.milliCpu + b.milliCpu, memory: a.memory + b.memory }), { milliCpu: 0, memory: 0 });
  const want = podRequest(pod);
  if (alloc.cpu !== undefined && used.milliCpu + want.milliCpu > milliCpu(alloc.cpu)) return 'Insufficient cpu';
  if (alloc.memory !== undefined && used.memory + want.memory > parseQuantity(alloc.memory)) return 'Insufficient memory';
  return null;
}

/** LeastAllocated: 0–100, higher for a node with more room left after placing the pod. */
export function leastAllocatedScore(pod: Pod, node: Node, podsOnNode: Pod[]): number {
  const alloc = node.status?.allocatable ?? {};
  const cap = { cpu: alloc.cpu !== undefined ? milliCpu(alloc.cpu) : 0, mem: alloc.memory !== undefined ? parseQuantity(alloc.memory) : 0 };
  const used = [...podsOnNode, pod].map(podRequest).reduce((a, b) => ({ milliCpu: a.milliCpu + b.milliCpu, memory: a.memory + b.memory }), { milliCpu: 0, memory: 0 });
  const free = (c: number, u: number) => (c > 0 ? Math.max(0, ((c - u) * 100) / c) : 0);
  return (free(cap.cpu, used.milliCpu) + free(cap.mem, used.memory)) / 2;
}

/** "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable." */
export function unschedulableMessage(total: number, reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([r, n]) => `${n} ${r}`);
  const tail = total === 0 ? ' no nodes available to schedule pods' : ` ${parts.join(', ')}`;
  return `0/${total} nodes are available:${tail}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`;
}
