import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isPodTerminal, milliCpu, objectKey, parseQuantity } from '../../apimachinery/index.ts';

/** CPU (millicores), memory (bytes) and pod slots. */
export interface Resources {
  milliCpu: number;
  memory: number;
  pods: number;
}

/** What the scheduler assumes for a container that requests nothing, when it scores nodes (kube: 100m, 200Mi). */
const NON_ZERO_CPU = 100;
const NON_ZERO_MEMORY = 200 * 1024 * 1024;

/** A pod's requests: its containers summed, or its largest init container when larger, plus overhead. */
export function podRequests(pod: Pod, nonZero = false): Resources {
  const sum = { milliCpu: 0, memory: 0, pods: 1 };
  for (const c of pod.spec?.containers ?? []) {
    const r = c.resources?.requests ?? {};
    sum.milliCpu += r.cpu !== undefined ? milliCpu(r.cpu) : nonZero ? NON_ZERO_CPU : 0;
    sum.memory += r.memory !== undefined ? parseQuantity(r.memory) : nonZero ? NON_ZERO_MEMORY : 0;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = c.resources?.requests ?? {};
    if (r.cpu !== undefined) sum.milliCpu = Math.max(sum.milliCpu, milliCpu(r.cpu));
    if (r.memory !== undefined) sum.memory = Math.max(sum.memory, parseQuantity(r.memory));
  }
  const overhead = pod.spec?.overhead ?? {};
  if (overhead.cpu !== undefined) sum.milliCpu += milliCpu(overhead.cpu);
  if (overhead.memory !== undefined) sum.memory += parseQuantity(overhead.memory);
  return sum;
}

/** "TCP/0.0.0.0/8080" for each hostPort a pod asks for. */
export function hostPorts(pod: Pod): string[] {
  const out: string[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostIP || '0.0.0.0'}/${p.hostPort}`);
  }
  return out;
}

/** One node and what is placed on it, kept current from the informers (and from the scheduler's own assumptions). */
export class NodeInfo {
  readonly name: string;
  node: Node;
  pods = new Map<string, Pod>();
  requested: Resources = { milliCpu: 0, memory: 0, pods: 0 };
  nonZeroRequested: Resources = { milliCpu: 0, memory: 0, pods: 0 };
  usedPorts = new Map<string, number>();
  allocatable: Resources = { milliCpu: 0, memory: 0, pods: 0 };
  /** image name → size in bytes, from node.status.images */
  images = new Map<string, number>();

  constructor(node: Node) {
    this.name = node.metadata?.name ?? '';
    this.node = node;
    this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    const a = node.status?.allocatable ?? {};
    this.allocatable = {
      milliCpu: a.cpu !== undefined ? milliCpu(a.cpu) : 0,
      memory: a.memory !== undefined ? parseQuantity(a.memory) : 0,
      pods: a.pods !== undefined ? parseQuantity(a.pods) : 110,
    };
    this.images = new Map((node.status?.images ?? []).flatMap((img) => (img.names ?? []).map((n) => [n, img.sizeBytes ?? 0] as const)));
  }

  addPod(pod: Pod): void {
    const key = objectKey(pod);
    if (this.pods.has(key)) this.removePod(key);
    this.pods.set(key, pod);
    this.#account(pod, 1);
  }

  removePod(key: string): void {
    const pod = this.pods.get(key);
    if (!pod) return;
    this.pods.delete(key);
    this.#account(pod, -1);
  }

  #account(pod: Pod, sign: 1 | -1): void {
    const r = podRequests(pod);
    const nz = podRequests(pod, true);
    for (const k of ['milliCpu', 'memory', 'pods'] as const) {
      this.requested[k] += sign * r[k];
      this.nonZeroRequested[k] += sign * nz[k];
    }
    for (const port of hostPorts(pod)) {
      const n = (this.usedPorts.get(port) ?? 0) + sign;
      if (n > 0) this.usedPorts.set(port, n);
      else this.usedPorts.delete(port);
    }
  }

  /** A copy whose pods can be changed without touching the cache (preemption's what-ifs). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.node);
    for (const p of this.pods.values()) c.addPod(p);
    return c;
  }
}

/**
 * The scheduler's picture of the cluster: every node with the pods bound or
 * assumed to it, and how many pods of each controller sit on each node (for
 * spreading replicas). Assumed pods are the scheduler's own bindings not yet
 * seen in the informer; they count as placed until seen or forgotten.
 */
export class SchedulerCache {
  readonly nodes = new Map<string, NodeInfo>();
  /** pod key → node it is placed (or assumed) on, and the pod */
  #placed = new Map<string, string>();
  #podsByKey = new Map<string, Pod>();
  #assumed = new Set<string>();
  /** controller uid → node → pods */
  #byOwner = new Map<string, Map<string, number>>();
  /** placed pods with required anti-affinity, which every new pod must respect */
  #antiAffinity = new Set<string>();

  setNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const info = this.nodes.get(name);
    if (info) return info.setNode(node);
    const added = new NodeInfo(node);
    this.nodes.set(name, added);
    // pods bound to the node before it was seen
    for (const [key, n] of this.#placed) if (n === name) added.addPod(this.#podsByKey.get(key) as Pod);
  }

  removeNode(name: string): void {
    this.nodes.delete(name);
  }

  /** Reflects a pod as the informer shows it: placed when bound and not finished, gone otherwise. */
  updatePod(pod: Pod): void {
    const key = objectKey(pod);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || isPodTerminal(pod)) {
      if (!this.#assumed.has(key)) this.removePod(key);
      return;
    }
    this.#assumed.delete(key);
    this.#place(key, pod, nodeName);
  }

  removePod(key: string): void {
    const nodeName = this.#placed.get(key);
    if (nodeName === undefined) return;
    const info = this.nodes.get(nodeName);
    const pod = this.#podsByKey.get(key);
    if (pod) this.#countOwner(pod, nodeName, -1);
    info?.removePod(key);
    this.#placed.delete(key);
    this.#podsByKey.delete(key);
    this.#assumed.delete(key);
    this.#antiAffinity.delete(key);
  }

  /** Places a pod the scheduler has just bound, before the informer shows the binding. */
  assume(pod: Pod, nodeName: string): void {
    const key = objectKey(pod);
    this.#assumed.add(key);
    this.#place(key, { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName } }, nodeName);
  }

  /** Undoes assume() when the binding failed. */
  forget(key: string): void {
    if (this.#assumed.has(key)) this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.#assumed.has(key);
  }

  /** How many pods with this controller are on each node. */
  ownerCounts(ownerUid: string): Map<string, number> | undefined {
    return this.#byOwner.get(ownerUid);
  }

  *podsWithAntiAffinity(): Iterable<[Pod, NodeInfo]> {
    for (const key of this.#antiAffinity) {
      const pod = this.#podsByKey.get(key);
      const info = this.nodes.get(this.#placed.get(key) ?? '');
      if (pod && info) yield [pod, info];
    }
  }

  *pods(): Iterable<[Pod, NodeInfo]> {
    for (const info of this.nodes.values()) for (const p of info.pods.values()) yield [p, info];
  }

  #place(key: string, pod: Pod, nodeName: string): void {
    const before = this.#placed.get(key);
    if (before !== undefined) {
      const old = this.#podsByKey.get(key);
      if (old) this.#countOwner(old, before, -1);
      if (before !== nodeName) this.nodes.get(before)?.removePod(key);
    }
    this.#placed.set(key, nodeName);
    this.#podsByKey.set(key, pod);
    if (pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length) this.#antiAffinity.add(key);
    else this.#antiAffinity.delete(key);
    this.nodes.get(nodeName)?.addPod(pod);
    this.#countOwner(pod, nodeName, 1);
  }

  #countOwner(pod: Pod, nodeName: string, delta: number): void {
    const uid = pod.metadata?.ownerReferences?.find((r) => r.controller)?.uid;
    if (!uid) return;
    let perNode = this.#byOwner.get(uid);
    if (!perNode) this.#byOwner.set(uid, (perNode = new Map()));
    const n = (perNode.get(nodeName) ?? 0) + delta;
    if (n > 0) perNode.set(nodeName, n);
    else perNode.delete(nodeName);
    if (perNode.size === 0) this.#byOwner.delete(uid);
  }
}
