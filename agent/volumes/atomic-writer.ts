import { chown, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface VolumeFile {
  content: Buffer;
  mode: number;
}

/**
 * Writes a volume's files so a reader never sees half an update, as the
 * kubelet's atomic writer does: the files go into a fresh `..<time>`
 * directory, `..data` is switched to it with one rename, and each top-level
 * name is a symlink through `..data`. Unchanged content is left alone.
 */
export async function writeAtomic(
  dir: string,
  files: Map<string, VolumeFile>,
  o: { current?: Map<string, VolumeFile>; group?: number } = {},
): Promise<boolean> {
  const { current, group } = o;
  if (current && sameFiles(files, current)) return false;
  await mkdir(dir, { recursive: true });
  const stamp = `..${new Date().toISOString().replace(/[:.]/g, '_')}_${Math.random().toString(36).slice(2, 8)}`;
  for (const [path, f] of files) {
    const target = join(dir, stamp, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.content, { mode: f.mode });
    // the pod's fsGroup owns the files (the owner stays; -1 leaves it)
    if (group !== undefined) await chown(target, -1, group);
  }
  await mkdir(join(dir, stamp), { recursive: true });
  if (group !== undefined) for (const d of [dir, join(dir, stamp)]) await chown(d, -1, group);
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  await symlink(stamp, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  const tops = new Set([...files.keys()].map((p) => p.split('/')[0] as string));
  for (const top of tops) {
    await rm(join(dir, top), { force: true });
    await symlink(join('..data', top), join(dir, top));
  }
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith('..') && !tops.has(entry)) await rm(join(dir, entry), { force: true, recursive: true });
  }
  if (previous && previous !== stamp) await rm(join(dir, previous), { recursive: true, force: true });
  return true;
}

function sameFiles(a: Map<string, VolumeFile>, b: Map<string, VolumeFile>): boolean {
  if (a.size !== b.size) return false;
  for (const [path, f] of a) {
    const g = b.get(path);
    if (!g || g.mode !== f.mode || !g.content.equals(f.content)) return false;
  }
  return true;
}
