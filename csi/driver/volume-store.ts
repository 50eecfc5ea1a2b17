import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../../apimachinery/index.ts';

/** What the driver knows about one volume it created; kept as JSON next to the volume's data. */
export interface VolumeRecord {
  id: string;
  /** the CreateVolume name (the CO's idempotency key) */
  name: string;
  backend: 'loop' | 'dir';
  capacityBytes: number;
  /** the filesystem a loop volume is formatted with at first stage */
  fsType: string;
  /** how big the filesystem was made (loop); below capacityBytes after an expansion the node has not caught up with */
  fsBytes?: number;
  parameters: Record<string, string>;
}

/** Volume records in `<stateDir>/volumes`, one file each, written atomically. */
export class VolumeStore {
  readonly dir: string;
  constructor(stateDir: string) {
    this.dir = join(stateDir, 'volumes');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  dataPath(v: VolumeRecord): string {
    return join(this.dir, v.backend === 'loop' ? `${v.id}.img` : v.id);
  }

  async get(id: string): Promise<VolumeRecord | undefined> {
    if (!/^[A-Za-z0-9._-]+$/.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as VolumeRecord;
    } catch {
      return undefined;
    }
  }

  async byName(name: string): Promise<VolumeRecord | undefined> {
    for (const v of await this.list()) if (v.name === name) return v;
    return undefined;
  }

  async list(): Promise<VolumeRecord[]> {
    const out: VolumeRecord[] = [];
    for (const f of await readdir(this.dir)) {
      if (!f.endsWith('.json')) continue;
      const v = await this.get(f.slice(0, -'.json'.length));
      if (v) out.push(v);
    }
    return out;
  }

  async put(v: VolumeRecord): Promise<void> {
    const path = join(this.dir, `${v.id}.json`);
    await replaceFile(path, JSON.stringify(v));
  }

  async remove(v: VolumeRecord): Promise<void> {
    await rm(join(this.dir, `${v.id}.json`), { force: true });
  }
}
