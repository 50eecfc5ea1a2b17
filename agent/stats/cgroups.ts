import { access, mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity, qosClass } from '../../apimachinery/index.ts';

/** The v1 controllers the agent makes pod cgroups in (runc makes the rest as it needs them). */
const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct'] as const;
const QOS_DIR = { Guaranteed: '', Burstable: 'burstable', BestEffort: 'besteffort' } as const;
/** cpu.shares of a pod that requests no cpu (the kubelet's MinShares). */
const MIN_SHARES = 2;

export interface CgroupUsage {
  /** memory in use less inactive file cache: what the kubelet calls the working set */
  memoryWorkingSet: number;
  /** tasks in the cgroup and below */
  processes: number;
}

async function readNumber(path: string): Promise<number> {
  const text = (await readFile(path, 'utf8')).trim();
  return text === 'max' ? Number.POSITIVE_INFINITY : Number(text);
}

/** One counter of a memory.stat file. */
function statValue(stat: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(stat);
  return m ? Number(m[1]) : 0;
}

/** Working set as cAdvisor computes it: usage less inactive file pages, never below zero. */
export function workingSet(usage: number, memoryStat: string, version: 1 | 2): number {
  const inactive = version === 1 ? statValue(memoryStat, 'total_inactive_file') : statValue(memoryStat, 'inactive_file');
  return Math.max(0, usage - inactive);
}

/**
 * The kubelet's pod cgroup hierarchy with the cgroupfs driver:
 * <root>/kubepods[/burstable|/besteffort]/pod<uid>, on cgroup v1 (one tree
 * per controller) or v2 (one unified tree). Containers go below their pod's
 * cgroup because the sandbox names it as cgroup_parent.
 */
export class PodCgroups {
  readonly version: 1 | 2;
  readonly #mount: string;
  readonly #root: string;

  constructor(opts: { root: string; version: 1 | 2; mount?: string }) {
    this.version = opts.version;
    this.#mount = opts.mount ?? '/sys/fs/cgroup';
    this.#root = opts.root;
  }

  /** cgroup v2 when the unified hierarchy is mounted at the top. */
  static async detect(root: string, mount = '/sys/fs/cgroup'): Promise<PodCgroups> {
    const v2 = await access(join(mount, 'cgroup.controllers')).then(() => true, () => false);
    return new PodCgroups({ root, version: v2 ? 2 : 1, mount });
  }

  /** The cgroup_parent a pod's sandbox gets, relative to the hierarchy's root. */
  parentOf(pod: Pod): string {
    return join('/', this.#root, 'kubepods', QOS_DIR[qosClass(pod.spec ?? { containers: [] })], `pod${pod.metadata?.uid ?? ''}`);
  }

  /** Where a cgroup path lives for one controller (v1) or in the unified tree (v2). */
  #dir(controller: string, cgroup: string): string {
    return this.version === 2 ? join(this.#mount, cgroup) : join(this.#mount, controller, cgroup);
  }

  /** The top of our hierarchy (the directory `skiff down` and test teardown remove). */
  get top(): string {
    return join('/', this.#root, 'kubepods');
  }

  /** Makes the pod's cgroup with its memory limit and cpu weight; returns its cgroup_parent. */
  async ensure(pod: Pod): Promise<string> {
    const parent = this.parentOf(pod);
    const { memoryLimit, cpuShares } = podLimits(pod);
    if (this.version === 2) {
      // each level must hand its controllers down to the next
      const levels = parent.split('/').filter(Boolean);
      for (let i = 0; i < levels.length; i++) {
        const dir = join(this.#mount, ...levels.slice(0, i + 1));
        await mkdir(dir, { recursive: true });
        if (i < levels.length - 1) await writeFile(join(dir, 'cgroup.subtree_control'), '+memory +pids +cpu').catch(() => undefined);
      }
      const dir = join(this.#mount, parent);
      if (memoryLimit) await writeFile(join(dir, 'memory.max'), String(memoryLimit));
      await writeFile(join(dir, 'cpu.weight'), String(Math.round(1 + ((cpuShares - 2) * 9999) / 262142))).catch(() => undefined);
      return parent;
    }
    await Promise.all(V1_CONTROLLERS.map((c) => mkdir(this.#dir(c, parent), { recursive: true })));
    if (memoryLimit) await writeFile(join(this.#dir('memory', parent), 'memory.limit_in_bytes'), String(memoryLimit));
    await writeFile(join(this.#dir('cpu', parent), 'cpu.shares'), String(cpuShares));
    return parent;
  }

  /** Every hierarchy a cgroup has a directory in: each mounted controller (v1), or the one unified tree (v2). */
  async #controllers(): Promise<string[]> {
    return this.version === 2 ? [''] : readdir(this.#mount).catch(() => [] as string[]);
  }

  /** Removes a pod's cgroup once nothing runs in it (its containers' cgroups are the runtime's and gone by then). */
  async remove(uid: string): Promise<void> {
    const controllers = await this.#controllers();
    for (const qos of Object.values(QOS_DIR)) {
      const cgroup = join('/', this.#root, 'kubepods', qos, `pod${uid}`);
      for (const c of controllers) await removeTree(this.#dir(c, cgroup));
    }
  }

  /** Memory working set and process count of a cgroup (a pod's, or a container's below it). */
  async usage(cgroup: string): Promise<CgroupUsage | undefined> {
    try {
      if (this.version === 2) {
        const dir = join(this.#mount, cgroup);
        const [usage, stat, processes] = await Promise.all([readNumber(join(dir, 'memory.current')), readFile(join(dir, 'memory.stat'), 'utf8'), readNumber(join(dir, 'pids.current'))]);
        return { memoryWorkingSet: workingSet(usage, stat, 2), processes };
      }
      const [usage, stat, processes] = await Promise.all([
        readNumber(join(this.#dir('memory', cgroup), 'memory.usage_in_bytes')),
        readFile(join(this.#dir('memory', cgroup), 'memory.stat'), 'utf8'),
        readNumber(join(this.#dir('pids', cgroup), 'pids.current')),
      ]);
      return { memoryWorkingSet: workingSet(usage, stat, 1), processes };
    } catch {
      return undefined;
    }
  }

  /** CPU time a cgroup (or, for '/', the whole machine) has used, in nanoseconds. */
  async cpuUsageNanos(cgroup: string): Promise<number | undefined> {
    try {
      if (this.version === 2) {
        const stat = await readFile(join(this.#mount, cgroup, 'cpu.stat'), 'utf8');
        return statValue(stat, 'usage_usec') * 1000;
      }
      return await readNumber(join(this.#dir('cpuacct', cgroup), 'cpuacct.usage'));
    } catch {
      return undefined;
    }
  }

  /** The cgroups directly below one (a pod's sandbox and containers, named by their runtime ids). */
  async children(cgroup: string): Promise<string[]> {
    const entries = await readdir(this.#dir('memory', cgroup), { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /** Removes our whole hierarchy, deepest first, in every controller (teardown of `down` and tests). */
  async removeAll(): Promise<void> {
    const controllers = await this.#controllers();
    for (const c of controllers) await removeTree(this.#dir(c, this.top));
    if (this.#root !== '/' && this.#root !== '') for (const c of controllers) await rmdir(this.#dir(c, join('/', this.#root))).catch(() => undefined);
  }
}

/** rmdir of a cgroup and every cgroup below it (cgroup directories hold only kernel files). */
async function removeTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return;
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name));
  await rmdir(dir).catch(() => undefined);
}

/** The pod-level limits the kubelet sets: memory only when every container has a limit; shares from cpu requests. */
export function podLimits(pod: Pod): { memoryLimit: number | undefined; cpuShares: number } {
  const containers = pod.spec?.containers ?? [];
  let memory = 0;
  let allLimited = containers.length > 0;
  let milliCpu = 0;
  for (const c of containers) {
    const lim = c.resources?.limits?.memory;
    if (lim === undefined) allLimited = false;
    else memory += parseQuantity(lim);
    const req = c.resources?.requests?.cpu;
    if (req !== undefined) milliCpu += Math.ceil(parseQuantity(req) * 1000);
  }
  return { memoryLimit: allLimited && memory > 0 ? memory : undefined, cpuShares: Math.max(MIN_SHARES, Math.floor((milliCpu * 1024) / 1000)) };
}
