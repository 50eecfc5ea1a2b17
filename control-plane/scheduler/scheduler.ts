import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, Informer, WorkQueue, objectKey, rfc3339, type EventRecorder, type Logger, type RestClient } from '../../apimachinery/index.ts';
import { leastAllocatedScore, unfitReason, unschedulableMessage } from './fit.ts';

const SCHEDULER_NAME = 'default-scheduler';

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

function wantsScheduling(p: Pod): boolean {
  return !p.spec?.nodeName && (p.spec?.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME && !p.metadata?.deletionTimestamp && !isTerminal(p);
}

/**
 * First cut of the scheduler: filters nodes (Ready, schedulable, taints,
 * nodeSelector, room for requests) and binds each pending pod to the node
 * with the most room left. A pod that fits nowhere gets FailedScheduling and
 * PodScheduled=False, and is retried when nodes change.
 */
export class Scheduler {
  #client: RestClient;
  #log: Logger;
  #events: EventRecorder;
  #pods: Informer<Pod>;
  #nodes: Informer<Node>;
  #queue = new WorkQueue({ baseDelayMs: 1000, maxDelayMs: 60_000 });
  /** pods this scheduler bound whose binding the informer has not shown yet */
  #assumed = new Map<string, string>();

  constructor(client: RestClient, events: EventRecorder, log: Logger) {
    this.#client = client;
    this.#events = events;
    this.#log = log.child({ component: 'scheduler' });
    this.#pods = new Informer<Pod>(client, { resource: 'pods' }, { log: this.#log });
    this.#nodes = new Informer<Node>(client, { resource: 'nodes' }, { log: this.#log });
    this.#pods.addHandlers({
      onAdd: (p) => wantsScheduling(p) && this.#queue.add(objectKey(p)),
      onUpdate: (_o, p) => {
        if (p.spec?.nodeName) this.#assumed.delete(objectKey(p));
        if (wantsScheduling(p)) this.#queue.add(objectKey(p));
      },
      onDelete: (p) => this.#assumed.delete(objectKey(p)),
    });
    const retryAll = () => {
      for (const p of this.#pods.list()) if (wantsScheduling(p)) this.#queue.add(objectKey(p));
    };
    this.#nodes.addHandlers({ onAdd: retryAll, onUpdate: (a, b) => JSON.stringify(a.status?.conditions?.map((c) => c.status)) !== JSON.stringify(b.status?.conditions?.map((c) => c.status)) || a.spec?.unschedulable !== b.spec?.unschedulable ? retryAll() : undefined });
  }

  async run(signal: AbortSignal): Promise<void> {
    void this.#pods.run(signal);
    void this.#nodes.run(signal);
    await Promise.all([this.#pods.hasSynced(), this.#nodes.hasSynced()]);
    await this.#queue.run(1, (key) => this.#scheduleOne(key), signal);
  }

  #podsOn(nodeName: string): Pod[] {
    return this.#pods.list().filter((p) => !isTerminal(p) && (p.spec?.nodeName === nodeName || this.#assumed.get(objectKey(p)) === nodeName));
  }

  async #scheduleOne(key: string): Promise<void> {
    const pod = this.#pods.get(key);
    if (!pod || !wantsScheduling(pod) || this.#assumed.has(key)) return;
    const nodes = this.#nodes.list();
    const reasons: string[] = [];
    let best: { node: Node; score: number } | undefined;
    for (const node of nodes) {
      const onNode = this.#podsOn(node.metadata?.name ?? '');
      const why = unfitReason(pod, node, onNode);
      if (why) {
        reasons.push(why);
        continue;
      }
      const score = leastAllocatedScore(pod, node, onNode);
      if (!best || score > best.score) best = { node, score };
    }
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    if (!best) {
      const message = unschedulableMessage(nodes.length, reasons);
      this.#log.info({ pod: key, message }, 'pod does not fit');
      await this.#markUnschedulable(pod, message);
      this.#events.event(pod, 'Warning', 'FailedScheduling', message);
      this.#queue.addRateLimited(key);
      return;
    }
    const nodeName = best.node.metadata?.name ?? '';
    this.#assumed.set(key, nodeName);
    try {
      await this.#client.create({ resource: 'pods', namespace: ns, name, subresource: 'binding' }, { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns, uid: pod.metadata?.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } });
      this.#queue.forget(key);
      this.#events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${nodeName}`);
    } catch (err) {
      this.#assumed.delete(key);
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      this.#log.warn({ pod: key, err: (err as Error).message }, 'binding failed');
      this.#queue.addRateLimited(key);
    }
  }

  async #markUnschedulable(pod: Pod, message: string): Promise<void> {
    const existing = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (existing?.status === 'False' && existing.message === message) return;
    try {
      await this.#client.patch({ resource: 'pods', namespace: pod.metadata?.namespace, name: pod.metadata?.name, subresource: 'status' }, {
        status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: rfc3339() }] },
      }, 'strategic');
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not set PodScheduled=False');
    }
  }
}
