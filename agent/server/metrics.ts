// The kubelet's /metrics/resource (what metrics-server scrapes), rendered
// from the stats summary.

interface CpuStats {
  usageCoreNanoSeconds?: number;
}
interface MemoryStats {
  workingSetBytes?: number;
}
interface SummaryLike {
  node: { cpu?: CpuStats; memory?: MemoryStats };
  pods: Array<{
    podRef: { name?: string; namespace?: string };
    cpu?: CpuStats;
    memory?: MemoryStats;
    containers: Array<{ name: string; cpu?: CpuStats; memory?: MemoryStats }>;
  }>;
}

const label = (v: string | undefined) => (v ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

class Exposition {
  #lines: string[] = [];
  family(
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    samples: Array<{ labels?: Record<string, string | undefined>; value: number | undefined }>,
  ): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const s of samples) {
      if (s.value === undefined) continue;
      const labels = Object.entries(s.labels ?? {})
        .map(([k, v]) => `${k}="${label(v)}"`)
        .join(',');
      this.#lines.push(`${name}${labels ? `{${labels}}` : ''} ${s.value}`);
    }
  }
  toString(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

const seconds = (c: CpuStats | undefined) => (c?.usageCoreNanoSeconds === undefined ? undefined : c.usageCoreNanoSeconds / 1e9);

/** /metrics/resource: CPU seconds and working sets of the node, each pod and each container. */
export function resourceMetrics(s: SummaryLike): string {
  const e = new Exposition();
  const pods = s.pods;
  const containers = pods.flatMap((p) => p.containers.map((c) => ({ c, labels: { container: c.name, namespace: p.podRef.namespace, pod: p.podRef.name } })));
  e.family(
    'container_cpu_usage_seconds_total',
    'counter',
    '[STABLE] CPU time the container has used, in core-seconds',
    containers.map(({ c, labels }) => ({ labels, value: seconds(c.cpu) })),
  );
  e.family(
    'container_memory_working_set_bytes',
    'gauge',
    '[STABLE] Working set of the container, in bytes',
    containers.map(({ c, labels }) => ({ labels, value: c.memory?.workingSetBytes })),
  );
  e.family('node_cpu_usage_seconds_total', 'counter', '[STABLE] CPU time the node has used, in core-seconds', [{ value: seconds(s.node.cpu) }]);
  e.family('node_memory_working_set_bytes', 'gauge', '[STABLE] Working set of the node, in bytes', [{ value: s.node.memory?.workingSetBytes }]);
  e.family(
    'pod_cpu_usage_seconds_total',
    'counter',
    '[STABLE] CPU time the pod has used, in core-seconds',
    pods.map((p) => ({ labels: { namespace: p.podRef.namespace, pod: p.podRef.name }, value: seconds(p.cpu) })),
  );
  e.family(
    'pod_memory_working_set_bytes',
    'gauge',
    '[STABLE] Working set of the pod, in bytes',
    pods.map((p) => ({ labels: { namespace: p.podRef.namespace, pod: p.podRef.name }, value: p.memory?.workingSetBytes })),
  );
  e.family('scrape_error', 'gauge', '[ALPHA] 1 when reading container metrics failed, else 0', [{ value: 0 }]);
  return e.toString();
}
