import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { workingSet } from './cgroups.ts';

export interface FsStats {
  capacityBytes: number;
  availableBytes: number;
  inodes: number;
  inodesFree: number;
}

/** What the node has left, the inputs of every eviction signal. */
export interface NodeStats {
  memory: { capacityBytes: number; availableBytes: number; workingSetBytes: number };
  nodefs: FsStats;
  imagefs: FsStats;
  /** the kernel's process limit and the tasks that exist now */
  rlimit: { maxPID: number; processes: number };
}

export async function fsStats(path: string): Promise<FsStats> {
  const s = await statfs(path);
  return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, inodes: s.files, inodesFree: s.ffree };
}

function meminfoKiB(meminfo: string, key: string): number {
  return Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
}

/**
 * memory.available as the kubelet computes it: capacity less the root
 * cgroup's working set (cgroup v1), or on v2 — where the root has no usage
 * file — the same figures from /proc/meminfo.
 */
export async function memoryStats(version: 1 | 2, mount = '/sys/fs/cgroup'): Promise<NodeStats['memory']> {
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  const capacity = meminfoKiB(meminfo, 'MemTotal');
  let ws: number;
  if (version === 1) {
    const [usage, stat] = await Promise.all([
      readFile(join(mount, 'memory', 'memory.usage_in_bytes'), 'utf8'),
      readFile(join(mount, 'memory', 'memory.stat'), 'utf8'),
    ]);
    ws = workingSet(Number(usage.trim()), stat, 1);
  } else {
    ws = Math.max(0, capacity - meminfoKiB(meminfo, 'MemFree') - meminfoKiB(meminfo, 'Inactive\\(file\\)'));
  }
  return { capacityBytes: capacity, availableBytes: Math.max(0, capacity - ws), workingSetBytes: ws };
}

/** The kernel's limit on tasks (the smaller of pid_max and threads-max) and how many there are (from /proc/loadavg). */
export async function pidStats(): Promise<NodeStats['rlimit']> {
  const [pidMax, threadsMax, loadavg] = await Promise.all([
    readFile('/proc/sys/kernel/pid_max', 'utf8'),
    readFile('/proc/sys/kernel/threads-max', 'utf8'),
    readFile('/proc/loadavg', 'utf8'),
  ]);
  const processes = Number(/\d+\/(\d+)/.exec(loadavg)?.[1] ?? 0);
  return { maxPID: Math.min(Number(pidMax.trim()), Number(threadsMax.trim())), processes };
}

/** Every node-level figure at once; cheap enough to read every second. */
export async function readNodeStats(paths: { nodefs: string; imagefs: string }, cgroupVersion: 1 | 2): Promise<NodeStats> {
  const [memory, nodefs, imagefs, rlimit] = await Promise.all([memoryStats(cgroupVersion), fsStats(paths.nodefs), fsStats(paths.imagefs), pidStats()]);
  return { memory, nodefs, imagefs, rlimit };
}
