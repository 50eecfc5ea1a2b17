import { mkdir, open, rm, stat, statfs, truncate } from 'node:fs/promises';
import { mountAt, mountTable, type MountEntry } from '../../apimachinery/index.ts';
import { failedPrecondition, resourceExhausted } from './errors.ts';
import { bindMount, filesystemOf, loopDeviceOf, sh, unmount } from './host.ts';
import type { VolumeRecord, VolumeStore } from './volume-store.ts';

/** Where a volume's bytes live and how they reach the staging path. */
export interface Backend {
  /** allocate the storage (its record is written by the caller) */
  create(v: VolumeRecord): Promise<void>;
  /** free it; FAILED_PRECONDITION while it is staged */
  remove(v: VolumeRecord): Promise<void>;
  grow(v: VolumeRecord, bytes: number): Promise<void>;
  /** make the volume's filesystem appear at `path` (idempotent) */
  stage(v: VolumeRecord, path: string, mountFlags: string[]): Promise<void>;
  unstage(v: VolumeRecord, path: string): Promise<void>;
  /** grow the filesystem to the volume's size once the storage grew (the record's fsBytes follows) */
  expandFilesystem(v: VolumeRecord, stagedAt: string): Promise<void>;
  readonly nodeExpansionRequired: boolean;
}

export const SUPPORTED_FS = ['ext4', 'xfs'];

async function ensureRoom(dir: string, bytes: number): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (bytes > free) throw resourceExhausted(`not enough space for ${bytes} bytes: ${free} bytes free on the backing filesystem`);
}

/**
 * `loop`: a sparse file per volume, attached as a loop device when staged,
 * formatted on first stage, mounted at the staging path; detached at unstage.
 */
export class LoopBackend implements Backend {
  readonly nodeExpansionRequired = true;
  #store: VolumeStore;
  constructor(store: VolumeStore) {
    this.#store = store;
  }

  async create(v: VolumeRecord): Promise<void> {
    await ensureRoom(this.#store.dir, v.capacityBytes);
    const file = await open(this.#store.dataPath(v), 'w');
    try {
      await file.truncate(v.capacityBytes);
    } finally {
      await file.close();
    }
  }

  async remove(v: VolumeRecord): Promise<void> {
    const file = this.#store.dataPath(v);
    if (await stat(file).catch(() => undefined)) {
      const device = await loopDeviceOf(file);
      if (device) throw failedPrecondition(`volume ${v.id} is in use: attached as ${device}`);
    }
    await rm(file, { force: true });
  }

  async grow(v: VolumeRecord, bytes: number): Promise<void> {
    await ensureRoom(this.#store.dir, bytes - v.capacityBytes);
    await truncate(this.#store.dataPath(v), bytes);
  }

  async stage(v: VolumeRecord, path: string, mountFlags: string[]): Promise<void> {
    const file = this.#store.dataPath(v);
    const device = (await loopDeviceOf(file)) ?? (await sh('losetup', ['--find', '--show', file])).trim();
    const mounted = await mountAt(path);
    if (mounted) {
      if (mounted.source === device) return;
      throw failedPrecondition(`staging path ${path} already holds ${mounted.source}, not volume ${v.id}`);
    }
    try {
      const existing = await filesystemOf(device);
      if (!existing) {
        await sh(`mkfs.${v.fsType}`, v.fsType === 'xfs' ? ['-q', device] : ['-q', '-F', '-m', '0', device]);
        await this.#store.put({ ...v, fsBytes: v.capacityBytes });
      } else if (existing === 'ext4' && (v.fsBytes ?? v.capacityBytes) < v.capacityBytes) {
        // an expansion the node could not do online: grown here, before the mount
        // 1: errors were found and mended, which resize2fs accepts
        await sh('e2fsck', ['-f', '-p', device], [1]);
        await sh('resize2fs', [device]);
        await this.#store.put({ ...v, fsBytes: v.capacityBytes });
      }
      await mkdir(path, { recursive: true });
      await sh('mount', ['-t', existing || v.fsType, ...(mountFlags.length ? ['-o', mountFlags.join(',')] : []), device, path]);
      if (existing === 'xfs' && (v.fsBytes ?? v.capacityBytes) < v.capacityBytes) await this.expandFilesystem(v, path);
    } catch (err) {
      // leave nothing attached behind a failed stage
      if (!(await mountAt(path))) await sh('losetup', ['-d', device]).catch(() => undefined);
      throw err;
    }
  }

  async unstage(v: VolumeRecord, path: string): Promise<void> {
    if (await mountAt(path)) await unmount(path);
    const device = await loopDeviceOf(this.#store.dataPath(v));
    if (device && !(await isMountedAnywhere(device))) await sh('losetup', ['-d', device]);
  }

  async expandFilesystem(v: VolumeRecord, stagedAt: string): Promise<void> {
    const device = await loopDeviceOf(this.#store.dataPath(v));
    if (!device) throw failedPrecondition(`volume ${v.id} is not staged on this node`);
    await sh('losetup', ['-c', device]);
    if ((await filesystemOf(device)) === 'xfs') await sh('xfs_growfs', [stagedAt]);
    else {
      try {
        await sh('resize2fs', [device]);
      } catch (err) {
        // online ext4 growth needs CAP_SYS_RESOURCE; without it the filesystem grows at its next stage
        if (/Permission denied/.test((err as Error).message))
          throw failedPrecondition(
            `cannot grow the mounted ext4 filesystem of volume ${v.id} on this host (${(err as Error).message}); it grows when the volume is next staged`,
          );
        throw err;
      }
    }
    await this.#store.put({ ...v, fsBytes: v.capacityBytes });
  }
}

async function isMountedAnywhere(device: string): Promise<boolean> {
  return (await mountTable()).some((m) => m.source === device);
}

/** Whether a directory (or something in it) is bind-mounted somewhere: mountinfo names a bind by its path inside the filesystem it comes from. */
async function isBoundAnywhere(dir: string): Promise<boolean> {
  const table = await mountTable();
  const home = table
    .filter((m) => dir === m.mountPoint || dir.startsWith(m.mountPoint === '/' ? '/' : `${m.mountPoint}/`))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
  if (!home) return false;
  const inner = `${home.root === '/' ? '' : home.root}${dir.slice(home.mountPoint === '/' ? 0 : home.mountPoint.length)}`;
  const sameFs = (m: MountEntry) => m.source === home.source && m.fsType === home.fsType;
  return table.some((m) => sameFs(m) && (m.root === inner || m.root.startsWith(`${inner}/`)));
}

/** `dir`: a directory per volume, bind-mounted at the staging path; its size is recorded, not enforced. */
export class DirBackend implements Backend {
  readonly nodeExpansionRequired = false;
  #store: VolumeStore;
  constructor(store: VolumeStore) {
    this.#store = store;
  }

  async create(v: VolumeRecord): Promise<void> {
    await ensureRoom(this.#store.dir, v.capacityBytes);
    await mkdir(this.#store.dataPath(v), { recursive: true, mode: 0o777 });
  }

  async remove(v: VolumeRecord): Promise<void> {
    const dir = this.#store.dataPath(v);
    if (await isBoundAnywhere(dir)) throw failedPrecondition(`volume ${v.id} is in use: still mounted`);
    await rm(dir, { recursive: true, force: true });
  }

  async grow(): Promise<void> {}

  async stage(v: VolumeRecord, path: string): Promise<void> {
    if (await mountAt(path)) return;
    await mkdir(path, { recursive: true });
    await bindMount(this.#store.dataPath(v), path, false);
  }

  async unstage(_v: VolumeRecord, path: string): Promise<void> {
    if (await mountAt(path)) await unmount(path);
  }

  async expandFilesystem(): Promise<void> {}
}
