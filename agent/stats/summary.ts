import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { rfc3339 } from '../../apimachinery/index.ts';
import type { PodCgroups } from './cgroups.ts';
import type { FsStats, NodeStats } from './node-stats.ts';
import { podUsage, type PodStatsSource } from './pod-stats.ts';

export interface SummaryDeps extends PodStatsSource {
  nodeName: string;
  /** when the agent started (the node's startTime in the summary) */
  startTime: Date;
  readNodeStats: () => Promise<NodeStats>;
  /** the pods running on this node */
  pods: () => Pod[];
  /** runtime container ids → names */
  containerNames: () => Promise<Map<string, string>>;
  /** a pod's persistent volumes' stats entries (CSI NodeGetVolumeStats) */
  volumeStats?: (pod: Pod, podDir: string, time: string) => Promise<object[]>;
  now?: () => number;
}

const fs = (f: FsStats, time: string) => ({
  time,
  availableBytes: f.availableBytes,
  capacityBytes: f.capacityBytes,
  usedBytes: f.capacityBytes - f.availableBytes,
  inodesFree: f.inodesFree,
  inodes: f.inodes,
  inodesUsed: f.inodes - f.inodesFree,
});

/**
 * The kubelet's stats summary (stats/v1alpha1, what /stats/summary serves
 * and metrics pipelines read): the node's CPU, memory, filesystems and
 * process limit, and each pod's and container's CPU and memory, its
 * processes, local storage and persistent volumes. CPU rates come from the previous summary's
 * sample of the same cgroup; the first summary gives totals only.
 */
export class StatsSummary {
  #d: SummaryDeps;
  #now: () => number;
  #cpuSamples = new Map<string, { at: number; usage: number }>();

  constructor(deps: SummaryDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  async #cpu(cgroups: PodCgroups, cgroup: string, time: string): Promise<object | undefined> {
    const usage = await cgroups.cpuUsageNanos(cgroup);
    if (usage === undefined) return undefined;
    const at = this.#now();
    const prev = this.#cpuSamples.get(cgroup);
    this.#cpuSamples.set(cgroup, { at, usage });
    const rate = prev && at > prev.at ? Math.round(((usage - prev.usage) * 1000) / (at - prev.at)) : undefined;
    return { time, usageCoreNanoSeconds: usage, ...(rate !== undefined && rate >= 0 ? { usageNanoCores: rate } : {}) };
  }

  async summary(): Promise<object> {
    const d = this.#d;
    const time = rfc3339(new Date(this.#now()));
    const [node, names] = await Promise.all([d.readNodeStats(), d.containerNames()]);
    const pods = [];
    const live = new Set<string>(['/']);
    for (const pod of d.pods()) {
      const usage = await podUsage(d, pod, names, true);
      if (!usage) continue;
      const cgroup = d.cgroups.parentOf(pod);
      live.add(cgroup);
      const containers = [];
      for (const { id, cgroup: below } of await d.cgroups.containers(cgroup)) {
        const name = names.get(id);
        if (!name) continue;
        live.add(below);
        containers.push({ name, cpu: await this.#cpu(d.cgroups, below, time), memory: { time, workingSetBytes: usage.containers.get(name) ?? 0 } });
      }
      const volume = (await d.volumeStats?.(pod, join(d.podsDir, pod.metadata?.uid ?? ''), time)) ?? [];
      pods.push({
        podRef: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid },
        startTime: pod.status?.startTime,
        containers,
        cpu: await this.#cpu(d.cgroups, cgroup, time),
        memory: { time, workingSetBytes: usage.memoryWorkingSet },
        'ephemeral-storage': { time, usedBytes: usage.ephemeral?.bytes ?? 0, inodesUsed: usage.ephemeral?.inodes ?? 0 },
        process_stats: { process_count: usage.processes },
        ...(volume.length ? { volume } : {}),
      });
    }
    // samples of cgroups that are gone would only grow the map
    for (const k of this.#cpuSamples.keys()) if (!live.has(k)) this.#cpuSamples.delete(k);
    return {
      node: {
        nodeName: d.nodeName,
        startTime: rfc3339(d.startTime),
        cpu: await this.#cpu(d.cgroups, '/', time),
        memory: {
          time,
          availableBytes: node.memory.availableBytes,
          usageBytes: node.memory.capacityBytes - node.memory.availableBytes,
          workingSetBytes: node.memory.workingSetBytes,
        },
        fs: fs(node.nodefs, time),
        runtime: { imageFs: fs(node.imagefs, time) },
        rlimit: { time, maxpid: node.rlimit.maxPID, curproc: node.rlimit.processes },
      },
      pods,
    };
  }
}
