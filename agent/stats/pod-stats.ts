import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodCgroups } from './cgroups.ts';
import { diskUsage, type DiskUsage } from './disk-usage.ts';

export interface PodUsage {
  memoryWorkingSet: number;
  processes: number;
  /** working set of each container by name (what the eviction message names) */
  containers: Map<string, number>;
  /** local disk the pod uses: its volumes and state on the node's filesystem, and its logs */
  ephemeral?: DiskUsage;
}

export interface PodStatsSource {
  cgroups: PodCgroups;
  /** the agent's per-pod directories (volumes, etc-hosts) */
  podsDir: string;
  /** where a pod's logs are */
  logDir: (pod: Pod) => string;
}

/**
 * One pod's usage from its cgroup (memory, processes) and, when asked, from
 * its directories (disk). `containerNames` maps runtime ids to names; the
 * cgroups below the pod's are named by those ids.
 */
export async function podUsage(src: PodStatsSource, pod: Pod, containerNames: Map<string, string>, withDisk: boolean): Promise<PodUsage | undefined> {
  const cgroup = src.cgroups.parentOf(pod);
  const usage = await src.cgroups.usage(cgroup);
  if (!usage) return undefined;
  const containers = new Map<string, number>();
  for (const { id, cgroup: below } of await src.cgroups.containers(cgroup)) {
    const name = containerNames.get(id);
    if (!name) continue;
    const c = await src.cgroups.usage(below);
    if (c) containers.set(name, (containers.get(name) ?? 0) + c.memoryWorkingSet);
  }
  const result: PodUsage = { ...usage, containers };
  if (withDisk) {
    const podDir = join(src.podsDir, pod.metadata?.uid ?? '');
    // persistent volumes are not the pod's ephemeral storage (a dir-backed one is on the same filesystem)
    const [state, logs] = await Promise.all([diskUsage(podDir, new Set([join(podDir, 'volumes', 'kubernetes.io~csi')])), diskUsage(src.logDir(pod))]);
    result.ephemeral = { bytes: state.bytes + logs.bytes, inodes: state.inodes + logs.inodes };
  }
  return result;
}
