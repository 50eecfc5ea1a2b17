import { Counter, Gauge, Histogram, Registry, exponentialBuckets } from 'prom-client';
import { processRegistry } from '../../apimachinery/index.ts';
import { POD_START_BUCKETS, PodStartTracker } from './pod-start.ts';

// The agent's own series under the kubelet's and kube-proxy's metric names,
// labels and buckets, on the process's one registry (/metrics), and the
// probe results on a registry of their own (/metrics/probes), as the
// kubelet splits them. Every label value comes from the agent's own state
// (pods it runs, CRI methods it calls), never from a request.

/** The Go Prometheus client's DefBuckets, which the kubelet uses where it names no others. */
const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ProbeType = 'Liveness' | 'Readiness' | 'Startup';
export type ProbeResult = 'successful' | 'failed' | 'unknown';

/** One persistent volume claim's use, as its CSI driver reports it. */
export interface VolumeStat {
  namespace: string;
  claim: string;
  capacityBytes?: number;
  availableBytes?: number;
  usedBytes?: number;
  inodes?: number;
  inodesFree?: number;
  inodesUsed?: number;
}

/** Claims' stats are read again at most this often, however often the agent is scraped (the kubelet's volume stats are a minute old at most). */
const VOLUME_STATS_MAX_AGE_MS = 10_000;

/** What a relist saw in the runtime: sandboxes ready, containers by CRI state. */
export interface RuntimeCounts {
  readyPods: number;
  containers: Record<'created' | 'running' | 'exited' | 'unknown', number>;
}

/**
 * A CRI method as the kubelet's operation_type label spells it:
 * RunPodSandbox → run_podsandbox, ListContainers → list_containers.
 */
export function operationType(method: string): string {
  return method
    .replace(/PodSandbox/g, 'Podsandbox')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

export class KubeletMetrics {
  /** /metrics: the kubelet's and kube-proxy's series, the process and Node.js runtime */
  readonly registry: Registry;
  /** /metrics/probes */
  readonly probes: Registry;
  readonly podStart: PodStartTracker;
  readonly #operations: Counter<'operation_type'>;
  readonly #operationErrors: Counter<'operation_type'>;
  readonly #operationDurations: Histogram<'operation_type'>;
  readonly #relist: Histogram;
  readonly #runningPods: Gauge;
  readonly #runningContainers: Gauge<'container_state'>;
  readonly #evictions: Counter<'eviction_signal'>;
  readonly #probeTotal: Counter<'probe_type' | 'result' | 'container' | 'pod' | 'namespace' | 'pod_uid'>;
  /** each pod's probe series, so they go with the pod */
  readonly #probeSeries = new Map<string, Map<string, Record<string, string>>>();
  readonly #proxySync: Histogram;
  readonly #proxyLastSync: Gauge;
  #volumeSource: (() => Promise<VolumeStat[]>) | undefined;
  #volumeRead: { at: number; stats: Promise<VolumeStat[]> } | undefined;

  constructor(o: { nodeName: string; now?: () => number; registry?: Registry; probes?: Registry }) {
    this.registry = o.registry ?? processRegistry();
    this.probes = o.probes ?? new Registry();
    const registers = [this.registry];
    new Gauge({ name: 'kubelet_node_name', help: "The node's name; always 1.", labelNames: ['node'], registers }).set({ node: o.nodeName }, 1);
    this.#operations = new Counter({
      name: 'kubelet_runtime_operations_total',
      help: 'Container runtime (CRI) calls, by operation.',
      labelNames: ['operation_type'],
      registers,
    });
    this.#operationErrors = new Counter({
      name: 'kubelet_runtime_operations_errors_total',
      help: 'Container runtime (CRI) calls that failed, by operation.',
      labelNames: ['operation_type'],
      registers,
    });
    this.#operationDurations = new Histogram({
      name: 'kubelet_runtime_operations_duration_seconds',
      help: 'How long container runtime (CRI) calls took, by operation.',
      labelNames: ['operation_type'],
      buckets: exponentialBuckets(0.005, 2.5, 14),
      registers,
    });
    this.#relist = new Histogram({
      name: 'kubelet_pleg_relist_duration_seconds',
      help: "How long one look at the runtime's pods and containers took.",
      buckets: DEF_BUCKETS,
      registers,
    });
    this.#runningPods = new Gauge({ name: 'kubelet_running_pods', help: 'Pods whose sandbox is ready.', registers });
    this.#runningContainers = new Gauge({
      name: 'kubelet_running_containers',
      help: 'Containers the runtime holds for this node, by state.',
      labelNames: ['container_state'],
      registers,
    });
    this.#evictions = new Counter({
      name: 'kubelet_evictions',
      help: 'Pods the agent evicted, by the signal that called for it.',
      labelNames: ['eviction_signal'],
      registers,
    });
    this.#proxySync = new Histogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: "How long writing the Service proxy's rules took.",
      buckets: exponentialBuckets(0.001, 2, 15),
      registers,
    });
    this.#proxyLastSync = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      help: "When the Service proxy's rules were last written, in seconds since the epoch.",
      registers,
    });
    this.#probeTotal = new Counter({
      name: 'prober_probe_total',
      help: 'Container probe results, by probe type and result.',
      labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
      registers: [this.probes],
    });
    const podStartDuration = new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: 'From the agent first seeing a pod to all its containers running.',
      buckets: POD_START_BUCKETS,
      registers,
    });
    const podStartSli = new Histogram({
      name: 'kubelet_pod_start_sli_duration_seconds',
      help: "From a pod's creation to all its containers running, less the time spent pulling images.",
      labelNames: ['first_with_network'],
      buckets: POD_START_BUCKETS,
      registers,
    });
    const podStartTotal = new Histogram({
      name: 'kubelet_pod_start_total_duration_seconds',
      help: "From a pod's creation to all its containers running, image pulls included.",
      labelNames: ['first_with_network'],
      buckets: POD_START_BUCKETS,
      registers,
    });
    const phases = new Histogram({
      name: 'skiff_pod_start_phase_duration_seconds',
      help: "Where a pod's first start spends its time, by phase: admit, volumes, sandbox, network, pull, create, start, ready.",
      labelNames: ['phase'],
      buckets: exponentialBuckets(0.001, 2, 16),
      registers,
    });
    const volumeStats = () => this.#volumeStats();
    const volumeGauge = (name: string, help: string, field: Exclude<keyof VolumeStat, 'namespace' | 'claim'>) =>
      new Gauge({
        name,
        help,
        labelNames: ['namespace', 'persistentvolumeclaim'],
        registers,
        async collect() {
          this.reset();
          for (const v of await volumeStats()) {
            const value = v[field];
            if (value !== undefined) this.set({ namespace: v.namespace, persistentvolumeclaim: v.claim }, value);
          }
        },
      });
    volumeGauge('kubelet_volume_stats_capacity_bytes', "A claim's volume's capacity, in bytes.", 'capacityBytes');
    volumeGauge('kubelet_volume_stats_available_bytes', "What a claim's volume has free, in bytes.", 'availableBytes');
    volumeGauge('kubelet_volume_stats_used_bytes', "What a claim's volume uses, in bytes.", 'usedBytes');
    volumeGauge('kubelet_volume_stats_inodes', "A claim's volume's inodes.", 'inodes');
    volumeGauge('kubelet_volume_stats_inodes_free', "A claim's volume's free inodes.", 'inodesFree');
    volumeGauge('kubelet_volume_stats_inodes_used', "A claim's volume's inodes in use.", 'inodesUsed');
    this.podStart = new PodStartTracker({
      now: o.now,
      started: (t) => {
        podStartDuration.observe(t.sinceSeen);
        podStartSli.observe({ first_with_network: String(t.firstWithNetwork) }, t.sli);
        podStartTotal.observe({ first_with_network: String(t.firstWithNetwork) }, t.sinceCreated);
      },
      phase: (phase, seconds) => phases.observe({ phase }, seconds),
    });
  }

  /** Where the claims' volume stats come from (the node's CSI volumes, once they are served). */
  showVolumes(source: () => Promise<VolumeStat[]>): void {
    this.#volumeSource = source;
  }

  #volumeStats(): Promise<VolumeStat[]> {
    const now = Date.now();
    if (!this.#volumeRead || now - this.#volumeRead.at > VOLUME_STATS_MAX_AGE_MS) {
      this.#volumeRead = { at: now, stats: this.#volumeSource?.().catch(() => []) ?? Promise.resolve([]) };
    }
    return this.#volumeRead.stats;
  }

  runtimeOperation(method: string, seconds: number, failed: boolean): void {
    const labels = { operation_type: operationType(method) };
    this.#operations.inc(labels);
    this.#operationDurations.observe(labels, seconds);
    if (failed) this.#operationErrors.inc(labels);
  }

  relisted(seconds: number, counts: RuntimeCounts): void {
    this.#relist.observe(seconds);
    this.#runningPods.set(counts.readyPods);
    for (const [state, n] of Object.entries(counts.containers)) this.#runningContainers.set({ container_state: state }, n);
  }

  evicted(signal: string): void {
    this.#evictions.inc({ eviction_signal: signal });
  }

  probed(p: { probeType: ProbeType; result: ProbeResult; container: string; pod: string; namespace: string; podUid: string }): void {
    const labels = { probe_type: p.probeType, result: p.result, container: p.container, pod: p.pod, namespace: p.namespace, pod_uid: p.podUid };
    const series = this.#probeSeries.get(p.podUid) ?? new Map<string, Record<string, string>>();
    this.#probeSeries.set(p.podUid, series);
    series.set(Object.values(labels).join('\0'), labels);
    this.#probeTotal.inc(labels);
  }

  /** A pod's probes are gone (the pod stopped or left): so are their series. */
  forgetProbes(podUid: string): void {
    for (const labels of this.#probeSeries.get(podUid)?.values() ?? []) this.#probeTotal.remove(labels);
    this.#probeSeries.delete(podUid);
  }

  proxySynced(seconds: number, atMs: number): void {
    this.#proxySync.observe(seconds);
    this.#proxyLastSync.set(atMs / 1000);
  }
}
