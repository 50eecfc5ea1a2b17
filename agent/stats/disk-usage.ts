import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskUsage {
  bytes: number;
  inodes: number;
}

/**
 * Space and inodes used below a directory, as `du -x` counts them: allocated
 * blocks, without crossing into other filesystems (a Memory-medium emptyDir
 * is memory, not disk), and not into the directories in `skip`.
 */
export async function diskUsage(dir: string, skip: ReadonlySet<string> = new Set()): Promise<DiskUsage> {
  const top = await lstat(dir).catch(() => undefined);
  if (!top) return { bytes: 0, inodes: 0 };
  const total = { bytes: top.blocks * 512, inodes: 1 };
  const walk = async (path: string): Promise<void> => {
    const entries = await readdir(path).catch(() => [] as string[]);
    for (const name of entries) {
      const child = join(path, name);
      if (skip.has(child)) continue;
      const st = await lstat(child).catch(() => undefined);
      if (!st || st.dev !== top.dev) continue;
      total.bytes += st.blocks * 512;
      total.inodes += 1;
      if (st.isDirectory()) await walk(child);
    }
  };
  if (top.isDirectory()) await walk(dir);
  return total;
}
