import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity, pathExists, qosClass } from '../../apimachinery/index.ts';
import { cgroupPath, containerIdOf, rootComponents, sliceName, type CgroupDriver } from './cgroup-names.ts';
import { SystemdSlices, type SliceProperties } from './systemd-slices.ts';

/** The v1 controllers the agent makes pod cgroups in (runc makes the rest as it needs them). */
const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct'] as const;
/** The level a QoS class adds below kubepods (Guaranteed pods sit right below it). */
const QOS_LEVEL = { Guaranteed: [], Burstable: ['burstable'], BestEffort: ['besteffort'] } as const;
/** cpu.shares of a pod that requests no cpu (the kubelet's MinShares). */
const MIN_SHARES = 2;

export interface CgroupUsage {
  /** memory in use less inactive file cache: what the kubelet calls the working set */
  memoryWorkingSet: number;
  /** memory in use, caches included */
  memoryUsage: number;
  /** anonymous memory (cAdvisor's rss) */
  memoryRss: number;
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
 * The kubelet's pod cgroup hierarchy: <root>/kubepods[/burstable|/besteffort]/pod<uid>,
 * on cgroup v1 (one tree per controller) or v2 (one unified tree). With the
 * cgroupfs driver the agent makes the directories; with the systemd driver
 * each level is a slice (kubepods.slice/kubepods-burstable.slice/…) that
 * systemd makes, and the runtime puts containers in scopes below it.
 * Containers go below their pod's cgroup because the sandbox names it as
 * cgroup_parent.
 */
export class PodCgroups {
  readonly version: 1 | 2;
  readonly driver: CgroupDriver;
  readonly #mount: string;
  readonly #root: string[];
  readonly #systemd: SystemdSlices;

  constructor(opts: { root: string; version: 1 | 2; mount?: string; driver?: CgroupDriver; systemd?: SystemdSlices }) {
    this.version = opts.version;
    this.driver = opts.driver ?? 'cgroupfs';
    this.#mount = opts.mount ?? '/sys/fs/cgroup';
    this.#root = rootComponents(opts.root, this.driver);
    this.#systemd = opts.systemd ?? new SystemdSlices();
  }

  /** cgroup v2 when the unified hierarchy is mounted at the top. */
  static async detect(root: string, opts: { mount?: string; driver?: CgroupDriver; systemd?: SystemdSlices } = {}): Promise<PodCgroups> {
    const mount = opts.mount ?? '/sys/fs/cgroup';
    const v2 = await pathExists(join(mount, 'cgroup.controllers'));
    return new PodCgroups({ ...opts, root, version: v2 ? 2 : 1, mount });
  }

  #path(...components: string[]): string {
    return cgroupPath([...this.#root, ...components], this.driver);
  }

  #podPath(qos: keyof typeof QOS_LEVEL, uid: string): string {
    return this.#path('kubepods', ...QOS_LEVEL[qos], `pod${uid}`);
  }

  /** The cgroup_parent a pod's sandbox gets, relative to the hierarchy's root. */
  parentOf(pod: Pod): string {
    return this.#podPath(qosClass(pod.spec ?? { containers: [] }), pod.metadata?.uid ?? '');
  }

  /** Where a cgroup path lives for one controller (v1) or in the unified tree (v2). */
  #dir(controller: string, cgroup: string): string {
    return this.version === 2 ? join(this.#mount, cgroup) : join(this.#mount, controller, cgroup);
  }

  /** The top of our hierarchy (the directory `skiff down` and test teardown remove). */
  get top(): string {
    return this.#path('kubepods');
  }

  /** Makes the pod's cgroup with its memory limit and cpu weight; returns its cgroup_parent. */
  async ensure(pod: Pod): Promise<string> {
    const parent = this.parentOf(pod);
    const { memoryLimit, cpuShares } = podLimits(pod);
    if (this.driver === 'systemd') {
      await this.#systemd.ensure(sliceName(parent), this.#sliceProperties(memoryLimit, cpuShares));
      return parent;
    }
    if (this.version === 2) {
      // each level must hand its controllers down to the next
      const levels = parent.split('/').filter(Boolean);
      for (let i = 0; i < levels.length; i++) {
        const dir = join(this.#mount, ...levels.slice(0, i + 1));
        await mkdir(dir, { recursive: true });
        // a controller the parent does not offer cannot be enabled: the pod runs without its accounting, as on such hosts
        if (i < levels.length - 1) await writeFile(join(dir, 'cgroup.subtree_control'), '+memory +pids +cpu').catch(() => undefined);
      }
      const dir = join(this.#mount, parent);
      if (memoryLimit) await writeFile(join(dir, 'memory.max'), String(memoryLimit));
      // no cpu controller here (see above): no weight to set
      await writeFile(join(dir, 'cpu.weight'), String(cpuWeight(cpuShares))).catch(() => undefined);
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

  /** A pod slice's settings: v1 takes shares and a memory limit, v2 a weight and a memory maximum. */
  #sliceProperties(memoryLimit: number | undefined, cpuShares: number): SliceProperties {
    const accounting = { CPUAccounting: 'yes', MemoryAccounting: 'yes', TasksAccounting: 'yes' };
    if (this.version === 2) return { ...accounting, CPUWeight: cpuWeight(cpuShares), MemoryMax: memoryLimit ?? 'infinity' };
    return { ...accounting, CPUShares: cpuShares, MemoryLimit: memoryLimit ?? 'infinity' };
  }

  /** Whether a cgroup exists (its memory directory: every pod cgroup has one). */
  async #exists(cgroup: string): Promise<boolean> {
    return pathExists(this.#dir('memory', cgroup));
  }

  /**
   * Removes a pod's cgroup once nothing runs in it (its containers' cgroups are the runtime's and gone by then).
   * With systemd its slice is stopped first; what runtimes left in hierarchies systemd does not manage goes after.
   */
  async remove(uid: string): Promise<void> {
    const cgroups = Object.keys(QOS_LEVEL).map((qos) => this.#podPath(qos as keyof typeof QOS_LEVEL, uid));
    if (this.driver === 'systemd') {
      const present = (await Promise.all(cgroups.map(async (c) => ((await this.#exists(c)) ? [sliceName(c)] : [])))).flat();
      await this.#systemd.remove(present);
    }
    const controllers = await this.#controllers();
    for (const cgroup of cgroups) for (const c of controllers) await removeCgroupTree(this.#dir(c, cgroup));
  }

  /** Memory working set and process count of a cgroup (a pod's, or a container's below it). */
  async usage(cgroup: string): Promise<CgroupUsage | undefined> {
    try {
      if (this.version === 2) {
        const dir = join(this.#mount, cgroup);
        const [usage, stat, processes] = await Promise.all([
          readNumber(join(dir, 'memory.current')),
          readFile(join(dir, 'memory.stat'), 'utf8'),
          readNumber(join(dir, 'pids.current')),
        ]);
        return { memoryWorkingSet: workingSet(usage, stat, 2), memoryUsage: usage, memoryRss: statValue(stat, 'anon'), processes };
      }
      const [usage, stat, processes] = await Promise.all([
        readNumber(join(this.#dir('memory', cgroup), 'memory.usage_in_bytes')),
        readFile(join(this.#dir('memory', cgroup), 'memory.stat'), 'utf8'),
        readNumber(join(this.#dir('pids', cgroup), 'pids.current')),
      ]);
      return { memoryWorkingSet: workingSet(usage, stat, 1), memoryUsage: usage, memoryRss: statValue(stat, 'total_rss'), processes };
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

  /** A process in a cgroup (the first it lists), or undefined when it has none. */
  async aProcess(cgroup: string): Promise<number | undefined> {
    const procs = await readFile(join(this.#dir('memory', cgroup), 'cgroup.procs'), 'utf8').catch(() => '');
    const first = Number.parseInt(procs, 10);
    return Number.isNaN(first) ? undefined : first;
  }

  /** The cgroups directly below a pod's: its sandbox's and containers', with the runtime id each belongs to. */
  async containers(cgroup: string): Promise<{ id: string; cgroup: string }[]> {
    const entries = await readdir(this.#dir('memory', cgroup), { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => ({ id: containerIdOf(e.name), cgroup: join(cgroup, e.name) }));
  }

  /** Kills every process in our hierarchy at once (a lab node losing power); returns how many. */
  async killAll(): Promise<number> {
    const pids = await procsUnder(this.#dir('memory', this.top));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it ended between the read and the kill
      }
    }
    return pids.length;
  }

  /** Removes our whole hierarchy, deepest first, in every controller (teardown of `down` and tests). */
  async removeAll(): Promise<void> {
    const root = this.#root.length > 0 ? this.#path() : undefined;
    if (this.driver === 'systemd') {
      // every slice of ours, the pods' first, so each one's settings are deleted too
      const slices = (await sliceTree(this.#dir('memory', this.top))).reverse();
      await this.#systemd.remove([...slices, ...(root ? [sliceName(root)] : [])]);
    }
    const controllers = await this.#controllers();
    for (const c of controllers) await removeCgroupTree(this.#dir(c, this.top));
    // the root stays while anything else lives in it
    if (root) for (const c of controllers) await rmdir(this.#dir(c, root)).catch(() => undefined);
  }
}

/** The processes in a cgroup and every cgroup below it. */
async function procsUnder(dir: string): Promise<number[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return [];
  const own = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
  const below = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => procsUnder(join(dir, e.name))));
  return [...own, ...below.flat()];
}

/** The slices in a cgroup directory and below it, parents first. */
async function sliceTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return [];
  const below = await Promise.all(entries.filter((e) => e.isDirectory() && e.name.endsWith('.slice')).map((e) => sliceTree(join(dir, e.name))));
  return [sliceName(dir), ...below.flat()];
}

/** rmdir of a cgroup and every cgroup below it (cgroup directories hold only kernel files). */
export async function removeCgroupTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return;
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(join(dir, e.name));
  // a cgroup with processes still in it stays; the next sweep takes it
  await rmdir(dir).catch(() => undefined);
}

/** cgroup v2's cpu.weight for v1 cpu.shares, as the kubelet converts them. */
function cpuWeight(shares: number): number {
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
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
