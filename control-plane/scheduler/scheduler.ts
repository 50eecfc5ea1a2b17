import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { CSINode, StorageClass } from 'kubernetes-types/storage/v1.js';
import { ApiError, Informer, isPodTerminal, objectKey, rfc3339, type EventRecorder, type Logger, type RestClient } from '../../apimachinery/index.ts';
import { podRequests, SchedulerCache, type NodeInfo } from './cache.ts';
import type { CycleState, FilterPlugin, Profile, Rejection, ScorePlugin } from './framework.ts';
import { nodeAffinity, nodeName, nodePorts, nodeUnschedulable, taintToleration } from './plugins/node.ts';
import { balancedAllocation, imageLocality, leastAllocated, nodeResourcesFit } from './plugins/resources.ts';
import { interPodAffinity, podTopologySpread } from './plugins/topology.ts';
import { VOLUME_BINDING, podVolumes, volumeBinding, type PodVolumes, type StorageLookup } from './plugins/volume-binding.ts';
import { ANN, findMatchingVolume } from '../volumes/index.ts';
import { pickPreemption, type PreemptionCandidate } from './preemption.ts';
import { SchedulingQueue } from './queue.ts';
import type { AttemptResult, SchedulerMetrics } from './metrics.ts';

export const DEFAULT_SCHEDULER = 'default-scheduler';
/** How long a pod waits in PreBind for its claims to be provisioned and bound (kube-scheduler's bindTimeoutSeconds). */
const BIND_TIMEOUT_MS = 600_000;

/** kube-scheduler's default plugins and score weights. */
export function defaultProfile(schedulerName = DEFAULT_SCHEDULER, resourceScore: ScorePlugin = leastAllocated): Profile {
  return {
    schedulerName,
    filters: [nodeUnschedulable, nodeName, taintToleration, nodeAffinity, nodePorts, nodeResourcesFit, volumeBinding, podTopologySpread, interPodAffinity],
    scores: [
      { plugin: taintToleration, weight: 3 },
      { plugin: nodeAffinity, weight: 2 },
      { plugin: podTopologySpread, weight: 2 },
      { plugin: interPodAffinity, weight: 2 },
      { plugin: resourceScore, weight: 1 },
      { plugin: balancedAllocation, weight: 1 },
      { plugin: imageLocality, weight: 1 },
    ],
  };
}

/**
 * How many feasible nodes to look for before scoring (kube's
 * percentageOfNodesToScore, adaptive): all of a small cluster, about 42% of
 * 1,000 nodes, never fewer than 100.
 */
export function feasibleNodesToFind(total: number): number {
  if (total <= 100) return total;
  const percent = Math.max(5, 50 - Math.floor(total / 125));
  return Math.max(100, Math.floor((total * percent) / 100));
}

/** "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable. preemption: …" */
export function unschedulableMessage(total: number, rejections: Rejection[], preemption: string): string {
  if (total === 0) return `0/0 nodes are available: no nodes available to schedule pods.`;
  return `0/${total} nodes are available: ${countedReasons(rejections.map((r) => r.reason))}. preemption: 0/${total} nodes are available: ${preemption}.`;
}

function countedReasons(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([r, n]) => `${n} ${r}`)
    .join(', ');
}

export interface FilterResult {
  feasible: NodeInfo[];
  rejected: { node: NodeInfo; rejection: Rejection }[];
  /** how many nodes were examined (the next pod starts after them) */
  looked: number;
}

/** Runs the filters over the nodes from `start`, stopping once enough feasible nodes are found. */
export function findFeasibleNodes(state: CycleState, filters: FilterPlugin[], nodes: NodeInfo[], start: number): FilterResult {
  const wanted = feasibleNodesToFind(nodes.length);
  const result: FilterResult = { feasible: [], rejected: [], looked: 0 };
  for (; result.looked < nodes.length && result.feasible.length < wanted; result.looked++) {
    const node = nodes[(start + result.looked) % nodes.length] as NodeInfo;
    let rejection: Rejection | null = null;
    for (const f of filters) if ((rejection = f.filter(state, node))) break;
    if (rejection) result.rejected.push({ node, rejection });
    else result.feasible.push(node);
  }
  return result;
}

/** The feasible node with the highest weighted sum of normalised scores; ties broken at random. */
export function bestNode(state: CycleState, profile: Profile, nodes: NodeInfo[]): NodeInfo {
  if (nodes.length === 1) return nodes[0] as NodeInfo;
  const totals = new Array<number>(nodes.length).fill(0);
  for (const { plugin, weight } of profile.scores) {
    if (plugin.preScore?.(state, nodes) === 'skip') continue;
    const scores = nodes.map((n) => plugin.score(state, n));
    plugin.normalize?.(scores, state);
    for (let i = 0; i < nodes.length; i++) totals[i] = (totals[i] as number) + weight * (scores[i] as number);
  }
  let best = 0;
  let ties = 1;
  for (let i = 1; i < nodes.length; i++) {
    if ((totals[i] as number) > (totals[best] as number)) {
      best = i;
      ties = 1;
    } else if (totals[i] === totals[best] && Math.random() * ++ties < 1) {
      best = i;
    }
  }
  return nodes[best] as NodeInfo;
}

/** A fresh cycle state for one attempt at `pod`. */
export function cycleState(pod: Pod, cache: SchedulerCache): CycleState {
  return { pod, requests: podRequests(pod), nonZeroRequests: podRequests(pod, true), cache, data: new Map() };
}

/**
 * A scheduling framework like kube-scheduler's: a priority queue with
 * back-off and an unschedulable pool; filter plugins over nodes (stopping
 * once enough feasible ones are found, starting where the last pod stopped);
 * weighted, normalised score plugins; the pod assumed onto the winner in the
 * cache and bound asynchronously through pods/binding; preemption of
 * lower-priority pods when nothing fits. One profile per schedulerName.
 */
export class Scheduler {
  #client: RestClient;
  #log: Logger;
  #events: EventRecorder;
  #profiles: Map<string, Profile>;
  #pods: Informer<Pod>;
  #nodes: Informer<Node>;
  #claims: Informer<PersistentVolumeClaim>;
  #volumes: Informer<PersistentVolume>;
  #classes: Informer<StorageClass>;
  #csiNodes: Informer<CSINode>;
  #storage: StorageLookup;
  #cache = new SchedulerCache();
  #queue = new SchedulingQueue();
  #nextStart = 0;
  #signal: AbortSignal | undefined;
  #metrics: SchedulerMetrics | undefined;

  /** `profiles`: one per schedulerName (default-scheduler's defaults when none); `metrics`: the process's scheduler series */
  constructor(o: { client: RestClient; events: EventRecorder; log: Logger; profiles?: Profile[]; metrics?: SchedulerMetrics }) {
    const { client } = o;
    this.#client = client;
    this.#events = o.events;
    this.#log = o.log.child({ component: 'scheduler' });
    this.#profiles = new Map((o.profiles ?? [defaultProfile()]).map((p) => [p.schedulerName, p]));
    this.#metrics = o.metrics;
    this.#metrics?.showQueue(() => this.#queue.pending());
    this.#pods = new Informer<Pod>(client, { resource: 'pods' }, { log: this.#log });
    this.#nodes = new Informer<Node>(client, { resource: 'nodes' }, { log: this.#log });
    this.#pods.addHandlers({ onAdd: (p) => this.#podChanged(p), onUpdate: (old, p) => this.#podChanged(p, old), onDelete: (p) => this.#podGone(p) });
    this.#nodes.addHandlers({
      onAdd: (n) => {
        this.#cache.setNode(n);
        this.#queue.moveAll();
      },
      onUpdate: (old, n) => {
        this.#cache.setNode(n);
        if (schedulingRelevant(old) !== schedulingRelevant(n)) this.#queue.moveAll();
      },
      onDelete: (n) => this.#cache.removeNode(n.metadata?.name ?? ''),
    });
    this.#claims = new Informer<PersistentVolumeClaim>(client, { resource: 'persistentvolumeclaims' }, { log: this.#log });
    this.#volumes = new Informer<PersistentVolume>(client, { resource: 'persistentvolumes' }, { log: this.#log });
    this.#classes = new Informer<StorageClass>(client, { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, { log: this.#log });
    this.#csiNodes = new Informer<CSINode>(client, { group: 'storage.k8s.io', version: 'v1', resource: 'csinodes' }, { log: this.#log });
    // storage that appears or changes may be what an unschedulable pod waits for
    const moveAll = { onAdd: () => this.#queue.moveAll(), onUpdate: () => this.#queue.moveAll() };
    for (const i of [this.#claims, this.#volumes, this.#classes, this.#csiNodes] as Informer<object>[]) i.addHandlers(moveAll);
    this.#storage = {
      claim: (ns, name) => this.#claims.get(`${ns}/${name}`),
      volume: (name) => this.#volumes.get(name),
      volumes: () => this.#volumes.list(),
      storageClass: (name) => this.#classes.get(name),
      csiNode: (name) => this.#csiNodes.get(name),
      csiDriverOnSomeNode: (driver) => this.#csiNodes.list().some((n) => n.spec?.drivers?.some((d) => d.name === driver)),
    };
  }

  #wantsScheduling(p: Pod): boolean {
    return !p.spec?.nodeName && this.#profiles.has(p.spec?.schedulerName ?? DEFAULT_SCHEDULER) && !p.metadata?.deletionTimestamp && !isPodTerminal(p);
  }

  #podChanged(p: Pod, old?: Pod): void {
    const key = objectKey(p);
    if (p.spec?.nodeName) {
      this.#queue.delete(key);
      this.#cache.updatePod(p);
      // a pod that finished or started terminating frees room
      if (old && (isPodTerminal(p) !== isPodTerminal(old) || !!p.metadata?.deletionTimestamp !== !!old.metadata?.deletionTimestamp)) this.#queue.moveAll();
    } else if (this.#wantsScheduling(p)) {
      this.#queue.add(key, p.spec?.priority ?? 0);
    } else {
      this.#queue.delete(key);
    }
  }

  #podGone(p: Pod): void {
    const key = objectKey(p);
    this.#queue.delete(key);
    this.#cache.removePod(key);
    if (p.spec?.nodeName) this.#queue.moveAll();
  }

  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    const informers = [this.#pods, this.#nodes, this.#claims, this.#volumes, this.#classes, this.#csiNodes] as Informer<object>[];
    for (const i of informers) void i.run(signal);
    await Promise.all(informers.map((i) => i.hasSynced()));
    for (;;) {
      const key = await this.#queue.pop(signal);
      if (key === null) break;
      const pod = this.#pods.get(key);
      if (!pod || !this.#wantsScheduling(pod) || this.#cache.isAssumed(key)) continue;
      const profile = this.#profiles.get(pod.spec?.schedulerName ?? DEFAULT_SCHEDULER) as Profile;
      const started = performance.now();
      let result: AttemptResult;
      try {
        result = await this.scheduleOne(pod, profile);
      } catch (err) {
        result = 'error';
        this.#log.warn({ pod: key, err: (err as Error).message }, 'scheduling attempt failed');
        this.#queue.retry(key, pod.spec?.priority ?? 0);
      }
      this.#metrics?.attempted(result, profile.schedulerName, (performance.now() - started) / 1000);
    }
    this.#queue.close();
  }

  /** One scheduling cycle: filter, score, assume; the binding runs on its own. */
  async scheduleOne(pod: Pod, profile: Profile): Promise<AttemptResult> {
    const key = objectKey(pod);
    const state = cycleState(pod, this.#cache);
    const volumes = podVolumes(pod, this.#storage);
    if (volumes) state.data.set(VOLUME_BINDING, { volumes, storage: this.#storage });
    const filters = profile.filters.filter((f) => f.preFilter?.(state) !== 'skip');
    const nodes = [...this.#cache.nodes.values()];
    const { feasible, rejected, looked } = findFeasibleNodes(state, filters, nodes, this.#nextStart);
    this.#nextStart = nodes.length ? (this.#nextStart + looked) % nodes.length : 0;

    if (feasible.length === 0) {
      await this.#unschedulable(state, filters, rejected, nodes.length);
      return 'unschedulable';
    }
    const chosen = bestNode(state, profile, feasible);
    this.#cache.assume(pod, chosen.name);
    const { attempts, queuedMs } = this.#queue.done(key);
    this.#metrics?.placed(attempts, queuedMs / 1000);
    void this.#bind(pod, chosen.name, volumes);
    return 'scheduled';
  }

  async #unschedulable(state: CycleState, filters: FilterPlugin[], rejected: { node: NodeInfo; rejection: Rejection }[], total: number): Promise<void> {
    const { pod } = state;
    const key = objectKey(pod);
    const candidate = pickPreemption(state, filters, rejected);
    let preemption: string;
    if (candidate) {
      await this.#preempt(pod, candidate);
      preemption = `${rejected.length - 1} No preemption victims found for incoming pod, 1 Preemption is possible`;
    } else {
      const unhelpful = rejected.filter((r) => r.rejection.unresolvable).length;
      preemption = countedReasons([
        ...Array<string>(unhelpful).fill('Preemption is not helpful for scheduling'),
        ...Array<string>(rejected.length - unhelpful).fill('No preemption victims found for incoming pod'),
      ]);
    }
    const message = unschedulableMessage(
      total,
      rejected.map((r) => r.rejection),
      preemption,
    );
    this.#log.info({ pod: key, message }, 'pod does not fit');
    this.#events.event(pod, 'Warning', 'FailedScheduling', message);
    await this.#markUnschedulable(pod, message);
    this.#queue.unschedulable(key, pod.spec?.priority ?? 0);
  }

  /** Nominates the node and evicts the victims; the pod is placed once they are gone. */
  async #preempt(pod: Pod, { node, victims }: PreemptionCandidate): Promise<void> {
    const ns = pod.metadata?.namespace;
    await this.#client.patch(
      { resource: 'pods', namespace: ns, name: pod.metadata?.name, subresource: 'status' },
      { status: { nominatedNodeName: node.name } },
      'merge',
    );
    for (const v of victims) {
      this.#events.event(v, 'Normal', 'Preempted', `Preempted by pod ${pod.metadata?.uid} on node ${node.name}`);
      try {
        await this.#client.delete({ resource: 'pods', namespace: v.metadata?.namespace, name: v.metadata?.name }, { preconditions: { uid: v.metadata?.uid } });
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
      }
    }
    this.#log.info({ pod: objectKey(pod), node: node.name, victims: victims.map(objectKey) }, 'preempting');
  }

  /**
   * PreBind of VolumeBinding: WaitForFirstConsumer claims learn the chosen
   * node (their provisioner makes the volume there) or get the free volume
   * that fits it; then the pod waits until every claim is bound.
   */
  async #bindVolumes(volumes: PodVolumes, nodeName: string): Promise<void> {
    const node = this.#nodes.get(nodeName);
    for (const { claim } of volumes.toProvision) {
      if (claim.metadata?.annotations?.[ANN.selectedNode] === nodeName) continue;
      await this.#client.patch(
        { resource: 'persistentvolumeclaims', namespace: claim.metadata?.namespace, name: claim.metadata?.name },
        { metadata: { annotations: { [ANN.selectedNode]: nodeName } } },
        'merge',
      );
    }
    for (const claim of volumes.toBind) {
      const pv = findMatchingVolume(
        claim,
        this.#volumes.list().filter((v) => !v.spec?.claimRef),
        node,
      );
      if (!pv) throw new Error(`no free volume fits claim ${objectKey(claim)} on ${nodeName} any more`);
      const claimRef = {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace: claim.metadata?.namespace,
        name: claim.metadata?.name,
        uid: claim.metadata?.uid,
      };
      await this.#client.update(
        { resource: 'persistentvolumes', name: pv.metadata?.name },
        { ...pv, metadata: { ...pv.metadata, annotations: { ...pv.metadata?.annotations, [ANN.boundByController]: 'yes' } }, spec: { ...pv.spec, claimRef } },
      );
    }
    const claims = [...volumes.toProvision.map((p) => p.claim), ...volumes.toBind];
    const deadline = Date.now() + BIND_TIMEOUT_MS;
    while (claims.some((c) => !this.#claims.get(objectKey(c))?.spec?.volumeName || this.#claims.get(objectKey(c))?.status?.phase !== 'Bound')) {
      if (this.#signal?.aborted) throw new Error('scheduler stopping');
      if (Date.now() > deadline) throw new Error(`binding volumes: timed out waiting for the claims to be bound`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async #bind(pod: Pod, nodeName: string, volumes?: PodVolumes): Promise<void> {
    const key = objectKey(pod);
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    try {
      // a conflict while binding volumes is worth another attempt (unlike one on the pod's own binding)
      if (volumes && (volumes.toProvision.length || volumes.toBind.length))
        await this.#bindVolumes(volumes, nodeName).catch((err: Error) => {
          throw new Error(`binding volumes: ${err.message}`);
        });
      await this.#client.create(
        { resource: 'pods', namespace: ns, name, subresource: 'binding' },
        {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace: ns, uid: pod.metadata?.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        },
      );
      this.#events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${nodeName}`);
    } catch (err) {
      this.#cache.forget(key);
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      this.#log.warn({ pod: key, err: (err as Error).message }, 'binding failed');
      this.#queue.retry(key, pod.spec?.priority ?? 0);
    }
  }

  async #markUnschedulable(pod: Pod, message: string): Promise<void> {
    const existing = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (existing?.status === 'False' && existing.message === message) return;
    try {
      await this.#client.patch(
        { resource: 'pods', namespace: pod.metadata?.namespace, name: pod.metadata?.name, subresource: 'status' },
        {
          status: {
            conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: rfc3339() }],
          },
        },
        'strategic',
      );
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not set PodScheduled=False');
    }
  }
}

/** What about a node can change where pods fit (not its heartbeats). */
function schedulingRelevant(n: Node): string {
  return JSON.stringify([
    n.metadata?.labels,
    n.spec?.taints,
    n.spec?.unschedulable,
    n.status?.allocatable,
    n.status?.conditions?.map((c) => [c.type, c.status]),
  ]);
}
