import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { MEMORY_PRESSURE_TAINT, ApiError, rfc3339, sleep, tolerates, type Informer } from '../../apimachinery/index.ts';
import { deleteExact, type Controller, type ControllerContext } from './context.ts';
import { NodeHealth } from './node-health.ts';
import { NODES, NODE_LEASES, PODS } from './shared-informers.ts';
import { DEFAULT_DISRUPTION, ZoneLimiter, evictionRate, zoneOf, zoneState, type DisruptionOptions, type ZoneState } from './zone-disruption.ts';

export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
const LEASE_NAMESPACE = 'kube-node-lease';
/** The NoSchedule taint each pressure condition calls for while it is True (kube: TaintNodesByCondition). */
const PRESSURE_TAINTS: Record<string, string> = {
  MemoryPressure: MEMORY_PRESSURE_TAINT,
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
  /** how fast nodes are tainted for eviction, and when not at all */
  disruption?: DisruptionOptions;
  /** the clock (tests) */
  now?: () => number;
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
  const readiness: Taint[] = key
    ? [
        { key, effect: 'NoSchedule' },
        { key, effect: 'NoExecute', timeAdded: now },
      ]
    : [];
  const pressure = conditions
    .filter((c) => c.status === 'True' && PRESSURE_TAINTS[c.type])
    .map((c): Taint => ({ key: PRESSURE_TAINTS[c.type] as string, effect: 'NoSchedule' }));
  return [...readiness, ...pressure];
}

/**
 * When a pod on a node with these NoExecute taints must go: now (a taint it
 * does not tolerate), at the end of the shortest tolerationSeconds among
 * the tolerations that apply, or never (null).
 */
export function evictionTime(pod: Pod, taints: Taint[], now = Date.now()): number | null {
  let at: number | null = null;
  for (const taint of taints.filter((t) => t.effect === 'NoExecute')) {
    const matching = (pod.spec?.tolerations ?? []).filter((t) => tolerates(t, taint));
    if (matching.length === 0) return now;
    const seconds = matching.map((t) => t.tolerationSeconds).filter((s): s is number => s !== undefined && s !== null);
    if (seconds.length === 0) continue;
    const added = Date.parse(taint.timeAdded ?? '') || now;
    const end = added + Math.max(Math.min(...seconds), 0) * 1000;
    at = at === null ? end : Math.min(at, end);
  }
  return at;
}

/**
 * Watches node heartbeats (Lease renewals and status updates): a node silent
 * for longer than the grace period, by this controller's own clock since it
 * last saw the node change, gets its conditions set to Unknown and its pods
 * marked not ready; nodes get the not-ready / unreachable taints their Ready
 * condition calls for, and the NoSchedule taint of each pressure condition
 * that is True; pods on NoExecute-tainted nodes are evicted once their
 * tolerations run out (300 s by default). NoExecute taints are added at a
 * per-zone rate, not at all in a small zone where most nodes went at once,
 * and are taken off every node when no node anywhere is Ready: then the
 * fault is more likely ours (the control plane's network) than the nodes'.
 */
export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  #ctx: ControllerContext;
  #opts: NodeLifecycleOptions;
  #disruption: DisruptionOptions;
  #now: () => number;
  #nodes: Informer<Node>;
  #leases: Informer<Lease>;
  #pods: Informer<Pod>;
  #health = new NodeHealth();
  #limiter = new ZoneLimiter();
  #zoneStates = new Map<string, ZoneState>();
  #masterDisruption = false;

  constructor(ctx: ControllerContext, opts: NodeLifecycleOptions = DEFAULT_NODE_LIFECYCLE) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#opts = opts;
    this.#disruption = opts.disruption ?? DEFAULT_DISRUPTION;
    this.#now = opts.now ?? Date.now;
    this.#nodes = ctx.informers.for<Node>(NODES);
    this.#leases = ctx.informers.for<Lease>(NODE_LEASES);
    this.#pods = ctx.informers.for<Pod>(PODS);
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#nodes.hasSynced(), this.#leases.hasSynced(), this.#pods.hasSynced()]);
    while (!signal.aborted) {
      await this.monitor();
      await sleep(this.#opts.monitorPeriodMs, signal);
    }
  }

  /** One pass over every node (run() calls it every monitor period). */
  async monitor(): Promise<void> {
    const now = this.#now();
    const nodes = this.#nodes.list();
    this.#health.retain(new Set(nodes.map((n) => n.metadata?.name ?? '')));
    const podsByNode = Map.groupBy(
      this.#pods.list().filter((p) => p.spec?.nodeName),
      (p) => p.spec?.nodeName as string,
    );
    const conditionsOf = new Map<Node, NodeCondition[]>();
    for (const node of nodes)
      conditionsOf.set(node, await this.#tryNode(node, () => this.#checkHeartbeat(node, podsByNode, now), node.status?.conditions ?? []));
    const zones = this.#observeZones(nodes, conditionsOf);
    for (const node of nodes) {
      const zone = zoneOf(node);
      await this.#tryNode(
        node,
        () =>
          this.#syncNode({
            node,
            conditions: conditionsOf.get(node) ?? [],
            pods: podsByNode.get(node.metadata?.name ?? '') ?? [],
            zone,
            zoneSize: zones.get(zone)?.length ?? 0,
            now,
          }),
        undefined,
      );
    }
  }

  async #tryNode<T>(node: Node, work: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409)))
        this.#ctx.log.warn({ node: node.metadata?.name, err: (err as Error).message }, 'node check failed');
      return fallback;
    }
  }

  /** Marks a node silent past the grace period Unknown; returns its conditions as they now are. */
  async #checkHeartbeat(node: Node, podsByNode: Map<string, Pod[]>, now: number): Promise<NodeCondition[]> {
    const name = node.metadata?.name ?? '';
    const conditions = node.status?.conditions ?? [];
    const silentMs = this.#health.observe(node, this.#leases.get(`${LEASE_NAMESPACE}/${name}`), now);
    if (silentMs <= this.#opts.gracePeriodMs || conditions.find((c) => c.type === 'Ready')?.status === 'Unknown') return conditions;
    const unknown = this.#unknownConditions(conditions, now);
    await this.#ctx.client.patch({ ...NODES, name, subresource: 'status' }, { status: { conditions: unknown } }, 'strategic');
    this.#ctx.events.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    this.#ctx.log.info({ node: name, silentSeconds: Math.round(silentMs / 1000) }, 'node stopped posting status');
    await this.#markPodsNotReady(podsByNode.get(name) ?? [], now);
    return unknown;
  }

  /** Each zone's nodes, with its state (logged when it changes) and whether every zone lost every node. */
  #observeZones(nodes: Node[], conditionsOf: Map<Node, NodeCondition[]>): Map<string, Node[]> {
    const zones = Map.groupBy(nodes, zoneOf);
    const readyOf = (n: Node) => conditionsOf.get(n)?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
    for (const [zone, members] of zones) {
      const state = zoneState(members.map(readyOf), this.#disruption.unhealthyZoneThreshold);
      if ((this.#zoneStates.get(zone) ?? 'Normal') !== state) this.#ctx.log.info({ zone, state }, 'zone state changed');
      this.#zoneStates.set(zone, state);
    }
    for (const zone of this.#zoneStates.keys()) if (!zones.has(zone)) this.#zoneStates.delete(zone);
    const allFull = zones.size > 0 && [...this.#zoneStates.values()].every((s) => s === 'FullDisruption');
    if (allFull !== this.#masterDisruption) {
      this.#ctx.log.warn(
        allFull
          ? 'no node is Ready anywhere: taking NoExecute taints off and evicting nothing until one is'
          : 'a node is Ready again: leaving full disruption mode',
      );
    }
    this.#masterDisruption = allFull;
    return zones;
  }

  async #syncNode(args: { node: Node; conditions: NodeCondition[]; pods: Pod[]; zone: string; zoneSize: number; now: number }): Promise<void> {
    const { pods, now } = args;
    const taints = await this.#syncTaints(args);
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = evictionTime(pod, taints, now);
      if (at === null || at > now) continue;
      this.#ctx.events.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
      await deleteExact(this.#ctx.client, { ...PODS, namespace: pod.metadata?.namespace }, pod);
    }
  }

  #unknownConditions(conditions: NodeCondition[], nowMs: number): NodeCondition[] {
    const now = rfc3339(new Date(nowMs));
    const types = new Set(['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', ...conditions.map((c) => c.type)]);
    return [...types].map((type) => {
      const prev = conditions.find((c) => c.type === type);
      return {
        ...prev,
        type,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        lastTransitionTime: now,
        lastHeartbeatTime: prev?.lastHeartbeatTime ?? now,
      };
    });
  }

  /**
   * Puts the taints the node's conditions call for on it (keeping others);
   * returns the node's taints. A NoExecute taint it lacks is added only as
   * the zone's eviction rate allows, and none is kept in full disruption.
   */
  async #syncTaints(args: { node: Node; conditions: NodeCondition[]; zone: string; zoneSize: number; now: number }): Promise<Taint[]> {
    const { node } = args;
    const current = node.spec?.taints ?? [];
    const ours = (t: Taint) => CONDITION_TAINT_KEYS.has(t.key);
    const has = (list: Taint[], t: Taint) => list.some((c) => c.key === t.key && c.effect === t.effect);
    const rate = evictionRate(this.#zoneStates.get(args.zone) ?? 'Normal', args.zoneSize, this.#disruption);
    const wanted = conditionTaints(args.conditions, rfc3339(new Date(args.now))).filter((t) => {
      if (t.effect !== 'NoExecute') return true;
      if (this.#masterDisruption) return false;
      return has(current, t) || this.#limiter.take(args.zone, rate, args.now);
    });
    const kept = current.filter(ours).filter((t) => has(wanted, t));
    const next = [...current.filter((t) => !ours(t)), ...kept, ...wanted.filter((w) => !has(kept, w))];
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    await this.#ctx.client.patch({ ...NODES, name: node.metadata?.name }, { spec: { taints: next.length ? next : null } }, 'merge');
    return next;
  }

  async #markPodsNotReady(pods: Pod[], nowMs: number): Promise<void> {
    const now = rfc3339(new Date(nowMs));
    for (const pod of pods) {
      if (pod.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') continue;
      const conditions = (pod.status.conditions ?? []).map((c) =>
        c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: now } : c,
      );
      try {
        await this.#ctx.client.patch(
          { resource: 'pods', namespace: pod.metadata?.namespace, name: pod.metadata?.name, subresource: 'status' },
          { status: { conditions } },
          'merge',
        );
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
  }
}
