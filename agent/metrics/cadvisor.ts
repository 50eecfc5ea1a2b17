import type { Pod } from 'kubernetes-types/core/v1.js';
import { Counter, Gauge, Registry } from 'prom-client';
import { parseQuantity } from '../../apimachinery/index.ts';
import type { ContainerStats, PodSandboxStats } from '../../cri-protos/types.ts';
import { CONTAINER_NAME, POD_UID } from '../pods/runtime-labels.ts';

// /metrics/cadvisor: the per-container series dashboards are built on, under
// cAdvisor's names, read from the runtime's own stats (CRI ListContainerStats
// and ListPodSandboxStats) at each scrape. Labels name the pod, its
// namespace, the container and its image, as the kubelet's cAdvisor does.

export interface CadvisorSource {
  /** the runtime's stats of this node's containers and sandboxes */
  containerStats(): Promise<ContainerStats[]>;
  sandboxStats(): Promise<PodSandboxStats[]>;
  /** the pods this node runs (images and limits come from their specs) */
  pods(): Pod[];
}

const CONTAINER_LABELS = ['container', 'image', 'name', 'namespace', 'pod'] as const;
const NETWORK_LABELS = ['interface', 'namespace', 'pod'] as const;

export class CadvisorMetrics {
  readonly registry = new Registry();
  readonly #cpu: Counter<(typeof CONTAINER_LABELS)[number]>;
  readonly #workingSet: Gauge<(typeof CONTAINER_LABELS)[number]>;
  readonly #rss: Gauge<(typeof CONTAINER_LABELS)[number]>;
  readonly #usage: Gauge<(typeof CONTAINER_LABELS)[number]>;
  readonly #fsUsage: Gauge<(typeof CONTAINER_LABELS)[number]>;
  readonly #memoryLimit: Gauge<(typeof CONTAINER_LABELS)[number]>;
  readonly #received: Counter<(typeof NETWORK_LABELS)[number]>;
  readonly #transmitted: Counter<(typeof NETWORK_LABELS)[number]>;
  readonly #source: CadvisorSource;

  constructor(source: CadvisorSource) {
    this.#source = source;
    const registers = [this.registry];
    const labelNames = [...CONTAINER_LABELS];
    this.#cpu = new Counter({ name: 'container_cpu_usage_seconds_total', help: 'CPU time the container has used, in core-seconds.', labelNames, registers });
    this.#workingSet = new Gauge({
      name: 'container_memory_working_set_bytes',
      help: "The container's memory working set (in use, less inactive file cache), in bytes.",
      labelNames,
      registers,
    });
    this.#rss = new Gauge({ name: 'container_memory_rss', help: "The container's anonymous (RSS) memory, in bytes.", labelNames, registers });
    this.#usage = new Gauge({ name: 'container_memory_usage_bytes', help: "The container's memory use, caches included, in bytes.", labelNames, registers });
    this.#fsUsage = new Gauge({ name: 'container_fs_usage_bytes', help: "What the container's writable layer uses on disk, in bytes.", labelNames, registers });
    this.#memoryLimit = new Gauge({
      name: 'container_spec_memory_limit_bytes',
      help: "The container's memory limit, in bytes (0: none).",
      labelNames,
      registers,
    });
    const networkLabels = [...NETWORK_LABELS];
    this.#received = new Counter({
      name: 'container_network_receive_bytes_total',
      help: "Bytes the pod's network interface has received.",
      labelNames: networkLabels,
      registers,
    });
    this.#transmitted = new Counter({
      name: 'container_network_transmit_bytes_total',
      help: "Bytes the pod's network interface has sent.",
      labelNames: networkLabels,
      registers,
    });
  }

  /** The series as they stand now, in the Prometheus text format. */
  async render(): Promise<string> {
    const [containers, sandboxes] = await Promise.all([this.#source.containerStats(), this.#source.sandboxStats()]);
    const pods = new Map(this.#source.pods().map((p) => [p.metadata?.uid ?? '', p]));
    for (const m of [this.#cpu, this.#workingSet, this.#rss, this.#usage, this.#fsUsage, this.#memoryLimit, this.#received, this.#transmitted]) m.reset();
    for (const s of containers) {
      const labels = s.attributes?.labels ?? {};
      const pod = pods.get(labels[POD_UID] ?? '');
      const name = labels[CONTAINER_NAME] ?? s.attributes?.metadata?.name ?? '';
      // stats of containers that are not running carry no CPU reading
      if (!pod || !s.cpu?.usageCoreNanoSeconds) continue;
      const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
      const series = {
        container: name,
        image: spec?.image ?? '',
        name: s.attributes?.id ?? '',
        namespace: pod.metadata?.namespace ?? '',
        pod: pod.metadata?.name ?? '',
      };
      this.#cpu.inc(series, s.cpu.usageCoreNanoSeconds.value / 1e9);
      this.#set(this.#workingSet, series, s.memory?.workingSetBytes);
      this.#set(this.#rss, series, s.memory?.rssBytes);
      this.#set(this.#usage, series, s.memory?.usageBytes);
      this.#set(this.#fsUsage, series, s.writableLayer?.usedBytes);
      const limit = spec?.resources?.limits?.memory;
      this.#memoryLimit.set(series, limit === undefined ? 0 : parseQuantity(limit));
    }
    for (const s of sandboxes) {
      const pod = pods.get(s.attributes?.labels?.[POD_UID] ?? s.attributes?.metadata?.uid ?? '');
      if (!pod) continue;
      const network = s.linux?.network;
      // some runtimes (containerd 1.6) fill in only the default interface
      const interfaces = network?.interfaces.length ? network.interfaces : network?.defaultInterface ? [network.defaultInterface] : [];
      for (const i of interfaces) {
        const series = { interface: i.name, namespace: pod.metadata?.namespace ?? '', pod: pod.metadata?.name ?? '' };
        if (i.rxBytes) this.#received.inc(series, i.rxBytes.value);
        if (i.txBytes) this.#transmitted.inc(series, i.txBytes.value);
      }
    }
    return this.registry.metrics();
  }

  #set(
    gauge: Gauge<(typeof CONTAINER_LABELS)[number]>,
    series: Record<(typeof CONTAINER_LABELS)[number], string>,
    reading: { value: number } | null | undefined,
  ): void {
    if (reading) gauge.set(series, reading.value);
  }
}
