import { createHash } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { KeyedLock, mountAt, replaceFile, type Logger } from '../../apimachinery/index.ts';
import type { AccessModeName, VolumeCapability } from '../../csi/index.ts';
import { WordedVolumeError } from '../volumes/index.ts';
import type { CsiPlugin, PluginRegistry } from './plugins.ts';

/** Why a CSI volume cannot be mounted or unmounted, already in the kubelet's words (FailedMount). */
export class CsiVolumeError extends WordedVolumeError {}

/** Claims and volumes as the node reads them; a missing one is undefined. */
export interface ClaimSource {
  claim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  volume(name: string): Promise<PersistentVolume | undefined>;
}

/** What the agent keeps next to each staging and publish directory, as the kubelet's vol_data.json: enough to undo it after a restart. */
interface VolumeData {
  driverName: string;
  volumeHandle: string;
  specVolID: string;
  stagingPath?: string;
  /** the pod's name for the volume (publish records only) */
  podVolume?: string;
}

const CSI_PLUGIN_DIR = 'kubernetes.io~csi';

/** Where a volume is staged on the node (once, for every pod using it). */
export function csiStagingPath(rootDir: string, driver: string, handle: string): string {
  return join(rootDir, 'plugins', 'kubernetes.io', 'csi', driver, createHash('sha256').update(handle).digest('hex'), 'globalmount');
}

/** The CSI access mode for a Kubernetes one (RWO as SINGLE_NODE_MULTI_WRITER when the driver offers it, as the kubelet does). */
export function csiAccessMode(modes: string[] | undefined, plugin: Pick<CsiPlugin, 'nodeCapabilities'>): AccessModeName {
  const m = modes ?? [];
  if (m.includes('ReadWriteMany')) return 'MULTI_NODE_MULTI_WRITER';
  if (m.includes('ReadOnlyMany') && !m.includes('ReadWriteOnce')) return 'MULTI_NODE_READER_ONLY';
  if (m.includes('ReadWriteOncePod')) return plugin.nodeCapabilities.has('SINGLE_NODE_MULTI_WRITER') ? 'SINGLE_NODE_SINGLE_WRITER' : 'SINGLE_NODE_WRITER';
  return plugin.nodeCapabilities.has('SINGLE_NODE_MULTI_WRITER') ? 'SINGLE_NODE_MULTI_WRITER' : 'SINGLE_NODE_WRITER';
}

function capabilityOf(pv: PersistentVolume, plugin: CsiPlugin): VolumeCapability {
  return {
    mount: { fsType: pv.spec?.csi?.fsType ?? '', mountFlags: pv.spec?.mountOptions ?? [] },
    accessMode: { mode: csiAccessMode(pv.spec?.accessModes, plugin) },
  };
}

/** Gives a published volume to the pod's fsGroup: group ownership, group read-write, setgid directories (skipped when the root already has it). */
async function applyFsGroup(root: string, gid: number): Promise<void> {
  const top = await lstat(root);
  if (top.gid === gid && (top.mode & 0o2070) === 0o2070) return;
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isSymbolicLink()) return;
    await lchown(path, st.uid, gid);
    await chmod(path, (st.mode & 0o7777) | 0o060 | (st.isDirectory() ? 0o2010 : 0));
    if (st.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(root);
}

/**
 * The kubelet's CSI volume plugin for persistentVolumeClaim volumes: stages
 * a volume once per node (NodeStageVolume at
 * plugins/kubernetes.io/csi/<driver>/<sha256(handle)>/globalmount), publishes
 * it per pod (NodePublishVolume at pods/<uid>/volumes/kubernetes.io~csi/<pv>/mount),
 * and reverses both, unstaging when the last pod on the node lets go. What is
 * mounted already (after an agent restart) is left as it is.
 */
export class CsiVolumes {
  #plugins: PluginRegistry;
  #claims: ClaimSource;
  #rootDir: string;
  #podsDir: string;
  #log: Logger;
  /** one stage, publish, unpublish or unstage of a volume at a time: a pod's setup never sees a staging another pod's teardown is taking away */
  #volumeLock = new KeyedLock();

  #afterStage: ((claim: PersistentVolumeClaim, pv: PersistentVolume) => Promise<void>) | undefined;

  /** `afterStage`: runs with every set-up volume once it is staged (finishing a file system resize) */
  constructor(o: {
    plugins: PluginRegistry;
    claims: ClaimSource;
    rootDir: string;
    podsDir: string;
    log: Logger;
    afterStage?: (claim: PersistentVolumeClaim, pv: PersistentVolume) => Promise<void>;
  }) {
    this.#afterStage = o.afterStage;
    this.#plugins = o.plugins;
    this.#claims = o.claims;
    this.#rootDir = o.rootDir;
    this.#podsDir = o.podsDir;
    this.#log = o.log;
  }

  stagingPath(driver: string, handle: string): string {
    return csiStagingPath(this.#rootDir, driver, handle);
  }

  #plugin(driver: string): CsiPlugin {
    const plugin = this.#plugins.get(driver);
    if (!plugin)
      throw new CsiVolumeError(
        `kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name ${driver} not found in the list of registered CSI drivers`,
      );
    return plugin;
  }

  /** The claim's bound volume, checked as the kubelet's volume manager checks it. */
  async boundVolume(namespace: string, claimName: string): Promise<{ claim: PersistentVolumeClaim; pv: PersistentVolume }> {
    const claim = await this.#claims.claim(namespace, claimName);
    if (!claim) throw new CsiVolumeError(`persistentvolumeclaim "${claimName}" not found`);
    if (claim.metadata?.deletionTimestamp) throw new CsiVolumeError(`error processing PVC ${namespace}/${claimName}: PVC is being deleted`);
    const volumeName = claim.spec?.volumeName;
    if (claim.status?.phase !== 'Bound' || !volumeName) throw new CsiVolumeError(`error processing PVC ${namespace}/${claimName}: PVC is not bound`);
    const pv = await this.#claims.volume(volumeName);
    if (!pv) throw new CsiVolumeError(`error processing PVC ${namespace}/${claimName}: persistentvolume "${volumeName}" not found`);
    if (pv.spec?.claimRef?.uid && pv.spec.claimRef.uid !== claim.metadata?.uid)
      throw new CsiVolumeError(`error processing PVC ${namespace}/${claimName}: persistentvolume "${volumeName}" is bound to another claim`);
    if (!pv.spec?.csi) throw new CsiVolumeError(`persistentvolume "${volumeName}" has no volume source this node supports (only CSI)`);
    return { claim, pv };
  }

  /** Mounts a pod's persistentVolumeClaim volume; answers where it is on the node and whether it is read-only. */
  async setUp(pod: Pod, v: Volume, podDir: string): Promise<{ hostPath: string; readOnly: boolean }> {
    const ns = pod.metadata?.namespace ?? 'default';
    const { claim, pv } = await this.boundVolume(ns, v.persistentVolumeClaim?.claimName ?? '');
    const csi = pv.spec?.csi as NonNullable<NonNullable<PersistentVolume['spec']>['csi']>;
    const plugin = this.#plugin(csi.driver);
    const pvName = pv.metadata?.name ?? '';
    const capability = capabilityOf(pv, plugin);
    const readOnly = !!(csi.readOnly || v.persistentVolumeClaim?.readOnly);
    const volumeContext = csi.volumeAttributes ?? {};
    const stagingTargetPath = plugin.nodeCapabilities.has('STAGE_UNSTAGE_VOLUME') ? this.stagingPath(csi.driver, csi.volumeHandle) : undefined;
    const dir = join(podDir, 'volumes', CSI_PLUGIN_DIR, pvName);
    const targetPath = join(dir, 'mount');
    await this.#volumeLock.run(volumeKey(csi.driver, csi.volumeHandle), async () => {
      // the pod claims the volume before it is staged, so the sweep of unused stagings never takes it mid-setup
      await writeVolumeData(dir, {
        driverName: csi.driver,
        volumeHandle: csi.volumeHandle,
        specVolID: pvName,
        stagingPath: stagingTargetPath,
        podVolume: v.name,
      });
      if (stagingTargetPath && !(await mountAt(stagingTargetPath))) {
        await mkdir(stagingTargetPath, { recursive: true });
        await writeVolumeData(dirname(stagingTargetPath), { driverName: csi.driver, volumeHandle: csi.volumeHandle, specVolID: pvName });
        await plugin.client
          .nodeStageVolume({ volumeId: csi.volumeHandle, stagingTargetPath, volumeCapability: capability, volumeContext, publishContext: {} })
          .catch((err: Error) => {
            throw new CsiVolumeError(`MountVolume.MountDevice failed for volume "${pvName}" : ${err.message}`);
          });
      }
      await this.#afterStage?.(claim, pv);
      if (!(await mountAt(targetPath))) {
        await plugin.client
          .nodePublishVolume({
            volumeId: csi.volumeHandle,
            stagingTargetPath,
            targetPath,
            volumeCapability: capability,
            readonly: readOnly,
            volumeContext,
            publishContext: {},
          })
          .catch((err: Error) => {
            throw new CsiVolumeError(`MountVolume.SetUp failed for volume "${pvName}" : ${err.message}`);
          });
        // the driver's default fsGroupPolicy (ReadWriteOnceWithFSType): only a formatted, writable volume changes hands
        const fsGroup = pod.spec?.securityContext?.fsGroup;
        if (fsGroup !== undefined && capability.mount?.fsType && !readOnly) await applyFsGroup(targetPath, fsGroup);
      }
    });
    return { hostPath: targetPath, readOnly };
  }

  /** The CSI volumes a pod has published on this node. */
  async published(podDir: string): Promise<Array<{ dir: string; data: VolumeData }>> {
    const root = join(podDir, 'volumes', CSI_PLUGIN_DIR);
    const out: Array<{ dir: string; data: VolumeData }> = [];
    for (const name of await readdir(root).catch(() => [] as string[])) {
      const data = await readVolumeData(join(root, name));
      if (data) out.push({ dir: join(root, name), data });
    }
    return out;
  }

  /** The stats summary's entries for a pod's CSI volumes (from NodeGetVolumeStats, where the driver offers it). */
  async volumeStats(pod: Pod, podDir: string, time: string): Promise<object[]> {
    const out: object[] = [];
    for (const { dir, data } of await this.published(podDir)) {
      const plugin = this.#plugins.get(data.driverName);
      if (!plugin?.nodeCapabilities.has('GET_VOLUME_STATS')) continue;
      const usage = await plugin.client.nodeGetVolumeStats(data.volumeHandle, join(dir, 'mount')).catch(() => undefined);
      if (!usage) continue;
      const bytes = usage.find((u) => u.unit === 'BYTES');
      const inodes = usage.find((u) => u.unit === 'INODES');
      const claimName = (pod.spec?.volumes ?? []).find((v) => v.name === data.podVolume)?.persistentVolumeClaim?.claimName;
      out.push({
        time,
        name: data.podVolume ?? data.specVolID,
        ...(claimName ? { pvcRef: { name: claimName, namespace: pod.metadata?.namespace } } : {}),
        ...(bytes ? { availableBytes: bytes.available, capacityBytes: bytes.total, usedBytes: bytes.used } : {}),
        ...(inodes ? { inodesFree: inodes.available, inodes: inodes.total, inodesUsed: inodes.used } : {}),
      });
    }
    return out;
  }

  /** Unpublishes every CSI volume of a pod, and unstages those no other pod on the node still has. Throws (leaving it mounted) when a driver is away. */
  async tearDown(podDir: string): Promise<void> {
    for (const { dir, data } of await this.published(podDir)) {
      await this.#volumeLock.run(volumeKey(data.driverName, data.volumeHandle), () => this.#tearDownOne(podDir, dir, data));
    }
  }

  /** One published volume of a pod: unpublished, and unstaged when no other pod on the node has it. */
  async #tearDownOne(podDir: string, dir: string, data: VolumeData): Promise<void> {
    const plugin = this.#plugins.get(data.driverName);
    const target = join(dir, 'mount');
    const published = !!(await mountAt(target));
    const lastUser = !!data.stagingPath && !(await this.#inUseElsewhere(data, podDir));
    const unstage = lastUser && !!(await mountAt(data.stagingPath as string));
    // nothing mounted (a setup that failed early) needs no driver
    if ((published || unstage) && !plugin)
      throw new CsiVolumeError(
        `UnmountVolume.TearDown failed for volume "${data.specVolID}" : kubernetes.io/csi: driver name ${data.driverName} not found in the list of registered CSI drivers`,
      );
    if (published) await plugin?.client.nodeUnpublishVolume(data.volumeHandle, target);
    if (await mountAt(target)) throw new CsiVolumeError(`UnmountVolume.TearDown failed for volume "${data.specVolID}" : ${target} is still mounted`);
    if (unstage) await plugin?.client.nodeUnstageVolume(data.volumeHandle, data.stagingPath as string);
    if (lastUser) {
      await rm(join(dirname(data.stagingPath as string), 'vol_data.json'), { force: true });
      // here and below: a directory not empty (a driver's leftovers) or already gone stays as it is
      await rmdir(data.stagingPath as string).catch(() => undefined);
      await rmdir(dirname(data.stagingPath as string)).catch(() => undefined);
      if (unstage) this.#log.info({ volume: data.specVolID }, 'volume unstaged');
    }
    await rm(join(dir, 'vol_data.json'), { force: true });
    await rmdir(target).catch(() => undefined);
    await rmdir(dir).catch(() => undefined);
  }

  /**
   * Unstages volumes staged on this node that no pod directory refers to any
   * more (the agent died between a pod's unpublish and the unstage). A driver
   * that is away is tried again on the next sweep.
   */
  async sweepStaged(): Promise<string[]> {
    const root = join(this.#rootDir, 'plugins', 'kubernetes.io', 'csi');
    const swept: string[] = [];
    for (const driver of await readdir(root).catch(() => [] as string[])) {
      for (const hash of await readdir(join(root, driver)).catch(() => [] as string[])) {
        const dir = join(root, driver, hash);
        const data = await readVolumeData(dir);
        if (!data) continue;
        const plugin = this.#plugins.get(data.driverName);
        if (!plugin) continue;
        await this.#volumeLock.run(volumeKey(data.driverName, data.volumeHandle), async () => {
          if (await this.#inUseElsewhere(data, '')) return;
          const staging = join(dir, 'globalmount');
          if (await mountAt(staging)) await plugin.client.nodeUnstageVolume(data.volumeHandle, staging);
          await rm(join(dir, 'vol_data.json'), { force: true });
          // not empty or gone: left as it is
          await rmdir(staging).catch(() => undefined);
          await rmdir(dir).catch(() => undefined);
          swept.push(data.specVolID);
        });
      }
    }
    return swept;
  }

  async #inUseElsewhere(data: VolumeData, exceptPodDir: string): Promise<boolean> {
    for (const uid of await readdir(this.#podsDir).catch(() => [] as string[])) {
      const podDir = join(this.#podsDir, uid);
      if (podDir === exceptPodDir) continue;
      if ((await this.published(podDir)).some((p) => p.data.driverName === data.driverName && p.data.volumeHandle === data.volumeHandle)) return true;
    }
    return false;
  }
}

function volumeKey(driver: string, handle: string): string {
  return `${driver}/${handle}`;
}

async function writeVolumeData(dir: string, data: VolumeData): Promise<void> {
  await mkdir(dir, { recursive: true });
  // replaced whole: the sweep of unused stagings reads these while a restarted
  // agent sets its pods' volumes up again, and took a truncated one for "no pod uses this"
  await replaceFile(join(dir, 'vol_data.json'), JSON.stringify(data));
}

async function readVolumeData(dir: string): Promise<VolumeData | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'vol_data.json'), 'utf8')) as VolumeData;
  } catch {
    return undefined;
  }
}
