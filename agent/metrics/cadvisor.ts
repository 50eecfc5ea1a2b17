import type { Pod } from 'kubernetes-types/core/v1.js';
import { Counter, Gauge, Registry } from 'prom-client';
import { parseQuantity } from '../../apimachinery/index.ts';
import type { ContainerSample, NetworkSample } from '../stats/index.ts';

// /metrics/cadvisor: the per-container series dashboards are built on, under
// cAdvisor's names, kept as cAdvisor keeps them: CPU and memory from the
// containers' cgroups and network counters from the pods' namespaces, read
// every 10 s in the background (a scrape renders the latest reading); what
// the writable layers use (a walk of the disk in the runtime) from the
// runtime's stats, at most once a minute. Labels name the pod, its
// namespace, the container and its image.

export interface CadvisorSource {
  /** the running containers' use and the pods' network counters, now */
  sample(): Promise<{ containers: ContainerSample[]; networks: NetworkSample[] }>;
  /** each container's writable layer use, by runtime id (a slow call to the runtime) */
  writableLayers(): Promise<Map<string, number>>;
  /** the pods this node runs (images and limits come from their specs) */
  pods(): Pod[];
}

/** How old the writable layers' figures may grow before they are read again. */
const LAYER_MAX_AGE_MS = 60_000;
/** How often the cgroups and network counters are read (cAdvisor's housekeeping interval). */
export const SAMPLE_PERIOD_MS = 10_000;

type Sample = Awaited<ReturnType<CadvisorSource['sample']>>;

const CONTAINER_LABELS = ['container', 'image', 'name', 'namespace', 'pod'] as const;
const NETWORK_LABELS = ['interface', 'namespace', 'pod'] as const;
type ContainerLabels = Record<(typeof CONTAINER_LABELS)[number], string>;

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
  readonly #now: () => number;
  #layers: { at: number; bytes: Map<string, number> } | undefined;
  #layersReading: Promise<void> | undefined;
  #latest: Sample | undefined;

  constructor(source: CadvisorSource, now: () => number = Date.now) {
    this.#source = source;
    this.#now = now;
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
    this.#fsUsage = new Gauge({
      name: 'container_fs_usage_bytes',
      help: "What the container's writable layer uses on disk, in bytes (read at most once a minute).",
      labelNames,
      registers,
    });
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

  /** The writable layers' figures: read in the background once they are a minute old (the first scrape waits for them). */
  async #writableLayers(): Promise<Map<string, number>> {
    const stale = !this.#layers || this.#now() - this.#layers.at > LAYER_MAX_AGE_MS;
    if (stale && !this.#layersReading) {
      this.#layersReading = this.#source
        .writableLayers()
        .then((bytes) => {
          this.#layers = { at: this.#now(), bytes };
        })
        .catch(() => undefined)
        .finally(() => {
          this.#layersReading = undefined;
        });
    }
    if (!this.#layers) await this.#layersReading;
    return this.#layers?.bytes ?? new Map();
  }

  /** Takes a reading now, and keeps it for the scrapes to come. */
  async refresh(): Promise<Sample> {
    this.#latest = await this.#source.sample();
    return this.#latest;
  }

  /** The series as of the latest reading (one is taken now if there is none yet), in the Prometheus text format. */
  async render(): Promise<string> {
    const [{ containers, networks }, layers] = await Promise.all([this.#latest ?? this.refresh(), this.#writableLayers()]);
    const pods = new Map(this.#source.pods().map((p) => [p.metadata?.uid ?? '', p]));
    for (const m of [this.#cpu, this.#workingSet, this.#rss, this.#usage, this.#fsUsage, this.#memoryLimit, this.#received, this.#transmitted]) m.reset();
    for (const c of containers) {
      const pod = pods.get(c.podUid);
      if (!pod) continue;
      const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((s) => s.name === c.name);
      const series: ContainerLabels = {
        container: c.name,
        image: spec?.image ?? '',
        name: c.id,
        namespace: pod.metadata?.namespace ?? '',
        pod: pod.metadata?.name ?? '',
      };
      if (c.cpuSeconds !== undefined) this.#cpu.inc(series, c.cpuSeconds);
      this.#workingSet.set(series, c.workingSetBytes);
      this.#rss.set(series, c.rssBytes);
      this.#usage.set(series, c.usageBytes);
      const layer = layers.get(c.id);
      if (layer !== undefined) this.#fsUsage.set(series, layer);
      const limit = spec?.resources?.limits?.memory;
      this.#memoryLimit.set(series, limit === undefined ? 0 : parseQuantity(limit));
    }
    for (const n of networks) {
      const pod = pods.get(n.podUid);
      if (!pod) continue;
      const series = { interface: n.interface, namespace: pod.metadata?.namespace ?? '', pod: pod.metadata?.name ?? '' };
      this.#received.inc(series, n.rxBytes);
      this.#transmitted.inc(series, n.txBytes);
    }
    return this.registry.metrics();
  }
}
