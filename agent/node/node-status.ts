import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { HOSTNAME_LABEL, parseQuantity, rfc3339, transitionTime, type Logger, type RestClient } from '../../apimachinery/index.ts';
import type { MachineInfo } from './machine.ts';

export const AGENT_VERSION = 'v1.34.0-skiff';

/** What the runtime and network checks say of the node. */
export interface RuntimeHealth {
  runtimeReady: boolean;
  networkReady: boolean;
  /** why the node is not ready, when it is not */
  message: string;
}

export interface NodeHealth extends RuntimeHealth {
  /** the pressure conditions the eviction manager has set */
  pressure: ReadonlySet<string>;
}

/** The kubelet's reasons and messages for the three pressure conditions: [when fine, when under pressure]. */
export const PRESSURE_CONDITIONS = {
  MemoryPressure: {
    reasons: { ok: 'KubeletHasSufficientMemory', bad: 'KubeletHasInsufficientMemory' },
    messages: { ok: 'kubelet has sufficient memory available', bad: 'kubelet has insufficient memory available' },
    events: { ok: 'NodeHasSufficientMemory', bad: 'NodeHasInsufficientMemory' },
  },
  DiskPressure: {
    reasons: { ok: 'KubeletHasNoDiskPressure', bad: 'KubeletHasDiskPressure' },
    messages: { ok: 'kubelet has no disk pressure', bad: 'kubelet has disk pressure' },
    events: { ok: 'NodeHasNoDiskPressure', bad: 'NodeHasDiskPressure' },
  },
  PIDPressure: {
    reasons: { ok: 'KubeletHasSufficientPID', bad: 'KubeletHasInsufficientPID' },
    messages: { ok: 'kubelet has sufficient PID available', bad: 'kubelet has insufficient PID available' },
    events: { ok: 'NodeHasSufficientPID', bad: 'NodeHasInsufficientPID' },
  },
} as const;

export interface NodeStatusInputs {
  nodeName: string;
  address: string;
  port: number;
  podCIDR: string;
  maxPods: number;
  runtimeVersion: string;
  systemReserved: Record<string, string>;
  kubeReserved: Record<string, string>;
  evictionHard: Record<string, string>;
}

/** capacity − system-reserved − kube-reserved − hard eviction threshold, per resource. */
export function allocatable(
  capacity: Record<string, number>,
  inputs: Pick<NodeStatusInputs, 'systemReserved' | 'kubeReserved' | 'evictionHard'>,
): Record<string, number> {
  const out = { ...capacity };
  for (const reserved of [inputs.systemReserved, inputs.kubeReserved]) {
    for (const [r, q] of Object.entries(reserved)) if (r in out) out[r] = (out[r] as number) - parseQuantity(q);
  }
  const threshold = (signal: string, total: number) => {
    const v = inputs.evictionHard[signal];
    if (!v) return 0;
    return v.endsWith('%') ? (total * Number(v.slice(0, -1))) / 100 : parseQuantity(v);
  };
  if (out.memory !== undefined) out.memory -= threshold('memory.available', capacity.memory ?? 0);
  if (out['ephemeral-storage'] !== undefined) out['ephemeral-storage'] -= threshold('nodefs.available', capacity['ephemeral-storage'] ?? 0);
  for (const k of Object.keys(out)) out[k] = Math.max(0, Math.floor(out[k] as number));
  return out;
}

function quantities(v: Record<string, number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, n] of Object.entries(v)) out[k] = k === 'memory' || k === 'ephemeral-storage' ? (n % 1024 === 0 ? `${n / 1024}Ki` : String(n)) : String(n);
  return out;
}

function condition(
  type: string,
  ok: boolean,
  reasons: { ok: string; bad: string },
  messages: { ok: string; bad: string },
  previous: NodeCondition[] | undefined,
  healthyIsTrue: boolean,
): NodeCondition {
  const status = ok === healthyIsTrue ? 'True' : 'False';
  const prev = previous?.find((c) => c.type === type);
  const ts = rfc3339();
  return {
    type,
    status,
    reason: ok ? reasons.ok : reasons.bad,
    message: ok ? messages.ok : messages.bad,
    lastHeartbeatTime: ts,
    lastTransitionTime: transitionTime(prev, status, ts),
  };
}

/** The Node object's spec and status as this agent reports them. */
export function buildNodeStatus(machine: MachineInfo, inputs: NodeStatusInputs, health: NodeHealth, previous?: Node) {
  const capacity = { cpu: machine.cpus, memory: machine.memoryBytes, 'ephemeral-storage': machine.ephemeralStorageBytes, pods: inputs.maxPods };
  const ready = health.runtimeReady && health.networkReady;
  const prev = previous?.status?.conditions;
  return {
    capacity: quantities(capacity),
    allocatable: quantities(allocatable(capacity, inputs)),
    conditions: [
      ...Object.entries(PRESSURE_CONDITIONS).map(([type, c]) => condition(type, !health.pressure.has(type), c.reasons, c.messages, prev, false)),
      condition('Ready', ready, { ok: 'KubeletReady', bad: 'KubeletNotReady' }, { ok: 'kubelet is posting ready status', bad: health.message }, prev, true),
    ],
    addresses: [
      { type: 'InternalIP', address: inputs.address },
      { type: 'Hostname', address: inputs.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: inputs.port } },
    nodeInfo: {
      machineID: machine.machineID,
      systemUUID: machine.systemUUID,
      bootID: machine.bootID,
      kernelVersion: machine.kernelVersion,
      osImage: machine.osImage,
      containerRuntimeVersion: inputs.runtimeVersion,
      kubeletVersion: AGENT_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: machine.architecture,
    },
  };
}

/**
 * Registers the Node and keeps its status current: a PATCH when anything
 * but heartbeat times changed, or every `reportFrequencyMs` regardless.
 */
export class NodeStatusReporter {
  #client: RestClient;
  #machine: MachineInfo;
  #inputs: NodeStatusInputs;
  #health: () => Promise<RuntimeHealth>;
  #pressure: ReadonlySet<string> = new Set();
  #log: Logger;
  #lastSent = '';
  #lastSentAt = 0;
  /** the last send failed: send at once when the API server answers again */
  #failed = false;
  #node: Node | undefined;
  readonly reportFrequencyMs: number;

  constructor(args: {
    client: RestClient;
    machine: MachineInfo;
    inputs: NodeStatusInputs;
    health: () => Promise<RuntimeHealth>;
    log: Logger;
    reportFrequencyMs: number;
  }) {
    this.#client = args.client;
    this.#machine = args.machine;
    this.#inputs = args.inputs;
    this.#health = args.health;
    this.#log = args.log;
    this.reportFrequencyMs = args.reportFrequencyMs;
  }

  get node(): Node | undefined {
    return this.#node;
  }

  async register(): Promise<Node> {
    const name = this.#inputs.nodeName;
    const labels = {
      [HOSTNAME_LABEL]: name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': this.#machine.architecture,
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': this.#machine.architecture,
    };
    const spec = this.#inputs.podCIDR ? { podCIDR: this.#inputs.podCIDR, podCIDRs: [this.#inputs.podCIDR] } : {};
    try {
      this.#node = await this.#client.create<Node>({ resource: 'nodes' }, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec });
      this.#log.info({ node: name }, 'registered node');
    } catch (err) {
      if ((err as { reason?: string }).reason !== 'AlreadyExists') throw err;
      this.#node = await this.#client.patch<Node>({ resource: 'nodes', name }, { metadata: { labels }, ...(this.#inputs.podCIDR ? { spec } : {}) }, 'merge');
      this.#log.info({ node: name }, 'node already registered; updated it');
    }
    await this.sync(true);
    return this.#node;
  }

  /** The eviction manager set or cleared pressure conditions: they are sent at once. */
  pressureChanged(active: ReadonlySet<string>): Promise<void> {
    this.#pressure = active;
    return this.sync();
  }

  /**
   * Sends the status if it changed, if the Node's conditions on the server
   * differ from ours (the node lifecycle controller marked it Unknown while
   * the API server could not hear us), after a failed send (the API server
   * is back), or if `force`; cheap to call every update period.
   */
  async sync(force = false): Promise<void> {
    try {
      this.#node = await this.#client.get<Node>({ resource: 'nodes', name: this.#inputs.nodeName });
      const status = buildNodeStatus(this.#machine, this.#inputs, { ...(await this.#health()), pressure: this.#pressure }, this.#node);
      const comparable = JSON.stringify({ ...status, conditions: status.conditions.map(({ lastHeartbeatTime: _h, lastTransitionTime: _t, ...c }) => c) });
      const serverAgrees = conditionSummary(this.#node.status?.conditions) === conditionSummary(status.conditions);
      if (!force && !this.#failed && serverAgrees && comparable === this.#lastSent && Date.now() - this.#lastSentAt < this.reportFrequencyMs) return;
      this.#node = await this.#client.patch<Node>({ resource: 'nodes', name: this.#inputs.nodeName, subresource: 'status' }, { status }, 'strategic');
      this.#lastSent = comparable;
      this.#lastSentAt = Date.now();
      if (this.#failed) this.#log.info('node status sent again after failures');
      this.#failed = false;
    } catch (err) {
      this.#failed = true;
      throw err;
    }
  }
}

/** The conditions' types, statuses and reasons, in a stable order: what must agree between us and the server. */
function conditionSummary(conditions: NodeCondition[] | undefined): string {
  return JSON.stringify((conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']).sort());
}
