import { readFile } from 'node:fs/promises';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodCgroups } from './cgroups.ts';

/** One running container's use, read from its cgroup. */
export interface ContainerSample {
  /** the runtime's container id */
  id: string;
  name: string;
  podUid: string;
  cpuSeconds: number | undefined;
  workingSetBytes: number;
  usageBytes: number;
  rssBytes: number;
}

/** One pod network interface's counters. */
export interface NetworkSample {
  podUid: string;
  interface: string;
  rxBytes: number;
  txBytes: number;
}

/** Parses /proc/<pid>/net/dev: each interface's received and sent bytes (the loopback left out). */
export function parseNetDev(text: string): { interface: string; rxBytes: number; txBytes: number }[] {
  const out: { interface: string; rxBytes: number; txBytes: number }[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    // receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes …
    if (name === 'lo' || fields.length < 9) continue;
    out.push({ interface: name, rxBytes: fields[0] as number, txBytes: fields[8] as number });
  }
  return out;
}

/**
 * What each running container of these pods uses, from the cgroups (as
 * cAdvisor reads them: no call to the runtime), and each pod's network
 * counters, read in its network namespace through one of its processes.
 * `names` maps runtime container ids to container names (the sandbox's is
 * not among them, so it is left out).
 */
export async function sampleContainers(o: { cgroups: PodCgroups; pods: Pod[]; names: Map<string, string> }): Promise<{
  containers: ContainerSample[];
  networks: NetworkSample[];
}> {
  const perPod = await Promise.all(
    o.pods.map(async (pod) => {
      const podUid = pod.metadata?.uid ?? '';
      const below = await o.cgroups.containers(o.cgroups.parentOf(pod));
      const containers = (
        await Promise.all(
          below.map(async ({ id, cgroup }): Promise<ContainerSample | undefined> => {
            const name = o.names.get(id);
            if (!name) return undefined;
            const [usage, cpu] = await Promise.all([o.cgroups.usage(cgroup), o.cgroups.cpuUsageNanos(cgroup)]);
            if (!usage) return undefined;
            return {
              id,
              name,
              podUid,
              cpuSeconds: cpu === undefined ? undefined : cpu / 1e9,
              workingSetBytes: usage.memoryWorkingSet,
              usageBytes: usage.memoryUsage,
              rssBytes: usage.memoryRss,
            };
          }),
        )
      ).filter((c): c is ContainerSample => c !== undefined);
      let networks: NetworkSample[] = [];
      if (!pod.spec?.hostNetwork) {
        // every process of the pod shares its network namespace: the first one found will do
        for (const { cgroup } of below) {
          const pid = await o.cgroups.aProcess(cgroup);
          if (pid === undefined) continue;
          const text = await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => undefined);
          if (text === undefined) continue;
          networks = parseNetDev(text).map((n) => ({ podUid, ...n }));
          break;
        }
      }
      return { containers, networks };
    }),
  );
  return { containers: perPod.flatMap((p) => p.containers), networks: perPod.flatMap((p) => p.networks) };
}
