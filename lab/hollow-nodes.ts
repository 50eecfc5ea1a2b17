import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, Informer, WorkQueue, objectKey, rfc3339, sleep, type Logger, type RestClient } from '../apimachinery/index.ts';
import { NodeLease } from '../agent/index.ts';

export interface HollowNodeOptions {
  count: number;
  /** node names are `${prefix}${index}` */
  prefix: string;
  /** what each node offers */
  capacity: { cpu: string; memory: string; pods: string };
  /** the Lease duration; renewed at a quarter of it, as the kubelet does */
  leaseSeconds: number;
  labels?: Record<string, string>;
  /** spread the nodes over this many zones (topology.kubernetes.io/zone=zone-<i mod zones>) */
  zones?: number;
}

export const DEFAULT_HOLLOW: HollowNodeOptions = { count: 1, prefix: 'hollow-', capacity: { cpu: '4', memory: '16Gi', pods: '110' }, leaseSeconds: 40 };

const POD_WORKERS = 8;

/** The fake pod address of pod `n` on node `index`: 10.128.0.0/9, a /24 per node (never routed; only written in status). */
function podIP(index: number, n: number): string {
  return `10.${128 + (index >> 8)}.${index & 255}.${(n % 253) + 1}`;
}

function readyConditions(now: string) {
  return ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready', 'PodScheduled'].map((type) => ({
    type,
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: now,
  }));
}

/**
 * Lightweight fake nodes, as kubemark's hollow kubelets: each registers a
 * Node, keeps its Lease renewed, reports the pods bound to it Running and
 * Ready (with a made-up IP, no containers), and lets deleted pods go at once.
 * One pod informer serves all of them, so a thousand nodes cost one watch.
 */
export class HollowNodes {
  #client: RestClient;
  #opts: HollowNodeOptions;
  #log: Logger;
  #names: Set<string>;
  #indexOf: Map<string, number>;
  #pods: Informer<Pod>;
  #nodes: Informer<Node>;
  #queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 10_000 });
  #podCounts = new Map<string, number>();
  #leases = new Map<string, NodeLease>();

  constructor(client: RestClient, opts: HollowNodeOptions, log: Logger) {
    this.#client = client;
    this.#opts = opts;
    this.#log = log.child({ component: 'hollow-nodes' });
    this.#names = new Set(Array.from({ length: opts.count }, (_, i) => `${opts.prefix}${i}`));
    this.#indexOf = new Map([...this.#names].map((n, i) => [n, i]));
    this.#pods = new Informer<Pod>(client, { resource: 'pods' }, { log: this.#log });
    const enqueue = (p: Pod) => p.spec?.nodeName && this.#names.has(p.spec.nodeName) && this.#queue.add(objectKey(p));
    this.#pods.addHandlers({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p) });
    // a node the control plane marked Unknown (a missed heartbeat) reports Ready again, as a kubelet would
    this.#nodes = new Informer<Node>(client, { resource: 'nodes' }, { log: this.#log });
    this.#nodes.addHandlers({
      onUpdate: (_o, n) => {
        const name = n.metadata?.name ?? '';
        if (this.#names.has(name) && n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') {
          void this.#client
            .patch({ resource: 'nodes', name, subresource: 'status' }, { status: this.#status() }, 'merge')
            .catch((err: Error) => this.#log.warn({ node: name, err: err.message }, 'status report failed'));
        }
      },
    });
  }

  get nodeNames(): string[] {
    return [...this.#names];
  }

  /** Registers the nodes, then serves their pods and heartbeats until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await this.#inBatches([...this.#names], (name, i) => this.#register(name, i));
    this.#log.info({ count: this.#names.size }, 'hollow nodes registered');
    void this.#pods.run(signal);
    void this.#nodes.run(signal);
    await Promise.all([this.#pods.hasSynced(), this.#nodes.hasSynced()]);
    const heartbeats = this.#heartbeat(signal);
    await this.#queue.run(POD_WORKERS, (key) => this.#syncPod(key), signal);
    await heartbeats;
  }

  /** Deletes the Node objects (their Leases go with them through the owner reference). */
  async remove(): Promise<void> {
    await this.#inBatches([...this.#names], async (name) => {
      try {
        await this.#client.delete({ resource: 'nodes', name });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    });
  }

  async #inBatches(names: string[], f: (name: string, index: number) => Promise<void>): Promise<void> {
    for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => f(n, this.#indexOf.get(n) ?? 0)));
  }

  #status(): NonNullable<Node['status']> {
    const now = rfc3339();
    const { capacity } = this.#opts;
    return {
      capacity,
      allocatable: capacity,
      conditions: [
        ...(['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const).map((type) => ({
          type,
          status: 'False',
          reason: 'HollowNode',
          message: 'hollow node',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        })),
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'hollow node is posting ready status',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        machineID: 'hollow',
        systemUUID: 'hollow',
        bootID: 'hollow',
        kernelVersion: 'hollow',
        osImage: 'hollow',
        containerRuntimeVersion: 'hollow://0',
        kubeletVersion: 'v1.34.0-skiff-hollow',
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    };
  }

  async #register(name: string, index: number): Promise<void> {
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'skiff.dev/hollow': 'true',
          ...(this.#opts.zones ? { 'topology.kubernetes.io/zone': `zone-${index % this.#opts.zones}` } : {}),
          ...this.#opts.labels,
        },
      },
      spec: { podCIDR: `10.${128 + (index >> 8)}.${index & 255}.0/24` },
      status: this.#status(),
    };
    let uid: string | undefined;
    try {
      uid = (await this.#client.create<Node>({ resource: 'nodes' }, node)).metadata?.uid;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      const existing = await this.#client.get<Node>({ resource: 'nodes', name });
      uid = existing.metadata?.uid;
      await this.#client.patch({ resource: 'nodes', name, subresource: 'status' }, { status: node.status }, 'merge');
    }
    // the agent's own Lease keeper, one per hollow node
    const lease = new NodeLease(this.#client, name, this.#opts.leaseSeconds, this.#log.child({ node: name }));
    lease.setOwner(uid);
    this.#leases.set(name, lease);
    await lease.renew();
  }

  async #heartbeat(signal: AbortSignal): Promise<void> {
    const everyMs = (this.#opts.leaseSeconds * 1000) / 4;
    while (!signal.aborted) {
      await sleep(everyMs, signal);
      if (signal.aborted) return;
      await this.#inBatches([...this.#names], async (name) => {
        try {
          await this.#leases.get(name)?.renew();
        } catch (err) {
          this.#log.warn({ node: name, err: (err as Error).message }, 'lease renewal failed');
        }
      });
    }
  }

  /** Runs a pod bound to a hollow node (status Running, Ready) or lets a deleted one go. */
  async #syncPod(key: string): Promise<void> {
    const pod = this.#pods.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const ref = { resource: 'pods', namespace: pod.metadata?.namespace, name: pod.metadata?.name };
    try {
      if (pod.metadata?.deletionTimestamp) {
        await this.#client.delete(ref, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
        return;
      }
      if (pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
      const n = (this.#podCounts.get(nodeName) ?? 0) + 1;
      this.#podCounts.set(nodeName, n);
      const now = rfc3339();
      const index = this.#indexOf.get(nodeName) ?? 0;
      const containerStatuses = (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        containerID: `hollow://${pod.metadata?.uid}/${c.name}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      }));
      const ip = podIP(index, n);
      await this.#client.patch(
        { ...ref, subresource: 'status' },
        {
          status: {
            phase: 'Running',
            conditions: readyConditions(now),
            hostIP: '127.0.0.1',
            hostIPs: [{ ip: '127.0.0.1' }],
            podIP: ip,
            podIPs: [{ ip }],
            startTime: now,
            containerStatuses,
            qosClass: pod.status?.qosClass,
          },
        },
        'merge',
      );
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }
}
