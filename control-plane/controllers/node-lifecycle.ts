import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { ApiError, rfc3339, sleep, tolerates, type Informer } from '../../apimachinery/index.ts';
import { deleteExact, type Controller, type ControllerContext } from './context.ts';
import { NODES, NODE_LEASES, PODS } from './shared-informers.ts';

export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
const LEASE_NAMESPACE = 'kube-node-lease';
/** The NoSchedule taint each pressure condition calls for while it is True (kube: TaintNodesByCondition). */
const PRESSURE_TAINTS: Record<string, string> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
  NetworkUnavailable: 'node.kubernetes.io/network-unavailable',
};
const CONDITION_TAINT_KEYS = new Set([NOT_READY_TAINT, UNREACHABLE_TAINT, ...Object.values(PRESSURE_TAINTS)]);

export interface NodeLifecycleOptions {
  /** how long a node may go without a heartbeat before it is Unknown (kube: --node-monitor-grace-period, 40 s) */
  gracePeriodMs: number;
  /** how often nodes are checked (kube: --node-monitor-period, 5 s) */
  monitorPeriodMs: number;
}

export const DEFAULT_NODE_LIFECYCLE: NodeLifecycleOptions = { gracePeriodMs: 40_000, monitorPeriodMs: 5_000 };

/**
 * The taints a node's conditions call for: NoSchedule and NoExecute for a
 * Ready condition that is False (not-ready) or Unknown (unreachable), and
 * NoSchedule for each pressure condition that is True.
 */
export function conditionTaints(conditions: NodeCondition[], now: string): Taint[] {
  const ready = conditions.find((c) => c.type === 'Ready')?.status;
  const key = ready === 'False' ? NOT_READY_TAINT : ready === 'True' ? undefined : UNREACHABLE_TAINT;
  const readiness: Taint[] = key ? [{ key, effect: 'NoSchedule' }, { key, effect: 'NoExecute', timeAdded: now }] : [];
  const pressure = conditions.filter((c) => c.status === 'True' && PRESSURE_TAINTS[c.type]).map((c): Taint => ({ key: PRESSURE_TAINTS[c.type] as string, effect: 'NoSchedule' }));
  return [...readiness, ...pressure];
}

/**
 * When a pod on a node with these NoExecute taints must go: now (a taint it
 * does not tolerate), at the end of the shortest tolerationSeconds among
 * the tolerations that apply, or never (null).
 */
export function evictionTime(pod: Pod, taints: Taint[]): number | null {
  let at: number | null = null;
  for (const taint of taints.filter((t) => t.effect === 'NoExecute')) {
    const matching = (pod.spec?.tolerations ?? []).filter((t) => tolerates(t, taint));
    if (matching.length === 0) return Date.now();
    const seconds = matching.map((t) => t.tolerationSeconds).filter((s): s is number => s !== undefined && s !== null);
    if (seconds.length === 0) continue;
    const added = Date.parse(taint.timeAdded ?? '') || Date.now();
    const end = added + Math.max(Math.min(...seconds), 0) * 1000;
    at = at === null ? end : Math.min(at, end);
  }
  return at;
}

/**
 * Watches node heartbeats (Lease renewals and status updates): a node silent
 * for longer than the grace period gets its conditions set to Unknown and
 * its pods marked not ready; nodes get the not-ready / unreachable taints
 * their Ready condition calls for, and the NoSchedule taint of each pressure
 * condition that is True; pods on NoExecute-tainted nodes are
 * evicted once their tolerations run out (300 s by default).
 */
export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  #ctx: ControllerContext;
  #opts: NodeLifecycleOptions;
  #nodes: Informer<Node>;
  #leases: Informer<Lease>;
  #pods: Informer<Pod>;

  constructor(ctx: ControllerContext, opts: NodeLifecycleOptions = DEFAULT_NODE_LIFECYCLE) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#opts = opts;
    this.#nodes = ctx.informers.for<Node>(NODES);
    this.#leases = ctx.informers.for<Lease>(NODE_LEASES);
    this.#pods = ctx.informers.for<Pod>(PODS);
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#nodes.hasSynced(), this.#leases.hasSynced(), this.#pods.hasSynced()]);
    while (!signal.aborted) {
      const podsByNode = new Map<string, Pod[]>();
      for (const p of this.#pods.list()) {
        const node = p.spec?.nodeName;
        if (node) podsByNode.set(node, [...(podsByNode.get(node) ?? []), p]);
      }
      for (const node of this.#nodes.list()) {
        try {
          await this.#monitor(node, podsByNode.get(node.metadata?.name ?? '') ?? []);
        } catch (err) {
          if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) this.#ctx.log.warn({ node: node.metadata?.name, err: (err as Error).message }, 'node check failed');
        }
      }
      await sleep(this.#opts.monitorPeriodMs, signal);
    }
  }

  async #monitor(node: Node, pods: Pod[]): Promise<void> {
    const name = node.metadata?.name ?? '';
    const now = Date.now();
    let conditions = node.status?.conditions ?? [];
    const ready = conditions.find((c) => c.type === 'Ready');
    const renewed = Date.parse(this.#leases.get(`${LEASE_NAMESPACE}/${name}`)?.spec?.renewTime ?? '') || 0;
    const lastHeartbeat = Math.max(renewed, Date.parse(ready?.lastHeartbeatTime ?? '') || 0, Date.parse(node.metadata?.creationTimestamp ?? '') || 0);
    if (now - lastHeartbeat > this.#opts.gracePeriodMs && ready?.status !== 'Unknown') {
      conditions = this.#unknownConditions(conditions);
      await this.#ctx.client.patch({ ...NODES, name, subresource: 'status' }, { status: { conditions } }, 'strategic');
      this.#ctx.events.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      this.#ctx.log.info({ node: name, silentSeconds: Math.round((now - lastHeartbeat) / 1000) }, 'node stopped posting status');
      await this.#markPodsNotReady(pods);
    }
    const taints = await this.#syncTaints(node, conditions);
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = evictionTime(pod, taints);
      if (at === null || at > now) continue;
      this.#ctx.events.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
      await deleteExact(this.#ctx.client, { ...PODS, namespace: pod.metadata?.namespace }, pod);
    }
  }

  #unknownConditions(conditions: NodeCondition[]): NodeCondition[] {
    const now = rfc3339();
    const types = new Set(['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', ...conditions.map((c) => c.type)]);
    return [...types].map((type) => {
      const prev = conditions.find((c) => c.type === type);
      return { ...prev, type, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now, lastHeartbeatTime: prev?.lastHeartbeatTime ?? now };
    });
  }

  /** Puts the taints the node's conditions call for on it (keeping others); returns the node's taints. */
  async #syncTaints(node: Node, conditions: NodeCondition[]): Promise<Taint[]> {
    const current = node.spec?.taints ?? [];
    const ours = (t: Taint) => CONDITION_TAINT_KEYS.has(t.key);
    const wanted = conditionTaints(conditions, rfc3339());
    const kept = current.filter(ours).filter((t) => wanted.some((w) => w.key === t.key && w.effect === t.effect));
    const next = [...current.filter((t) => !ours(t)), ...kept, ...wanted.filter((w) => !kept.some((t) => t.key === w.key && t.effect === w.effect))];
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    await this.#ctx.client.patch({ ...NODES, name: node.metadata?.name }, { spec: { taints: next.length ? next : null } }, 'merge');
    return next;
  }

  async #markPodsNotReady(pods: Pod[]): Promise<void> {
    const now = rfc3339();
    for (const pod of pods) {
      if (pod.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') continue;
      const conditions = (pod.status.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: now } : c));
      try {
        await this.#ctx.client.patch({ resource: 'pods', namespace: pod.metadata?.namespace, name: pod.metadata?.name, subresource: 'status' }, { status: { conditions } }, 'merge');
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
  }
}
