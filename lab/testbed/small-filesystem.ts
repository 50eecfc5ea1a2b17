import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SmallFilesystem {
  /** where it is mounted */
  path: string;
  /** takes every free block and inode, so no file or directory can be made; resolves with what gives the space back */
  fill(): Promise<() => Promise<void>>;
  /** unmounts it (lazily if busy) and removes its image */
  remove(): Promise<void>;
}

/** An ext4 filesystem of `mib` MiB (and `inodes` inodes, mkfs's choice unless said) of a test's own, loop-mounted: a node filesystem a test can fill. */
export async function smallFilesystem(name: string, mib: number, o: { inodes?: number } = {}): Promise<SmallFilesystem> {
  const scratch = await mkdtemp(join(tmpdir(), `sk-${name}-`));
  const path = join(scratch, 'fs');
  const image = join(scratch, 'fs.img');
  const remove = async () => {
    await run('umount', [path]).catch(() => run('umount', ['-l', path]).catch(() => undefined));
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    await mkdir(path);
    await run('truncate', ['-s', `${mib}M`, image]);
    await run('/usr/sbin/mkfs.ext4', ['-q', '-F', ...(o.inodes ? ['-N', String(o.inodes)] : []), image]);
    await run('mount', ['-o', 'loop', image, path]);
  } catch (err) {
    await remove();
    throw err;
  }
  const fill = async () => {
    const filler = join(path, '.fill');
    await mkdir(filler);
    // dd stops at "No space left on device" once the blocks are taken; ext4 still makes small files and
    // directories from what it keeps back for metadata, so the inodes go too
    await run('dd', ['if=/dev/zero', `of=${join(filler, 'blocks')}`, 'bs=1M']).catch(() => undefined);
    for (let i = 0; ; i++) {
      const made = await writeFile(join(filler, `i${i}`), '').then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOSPC') throw err;
          return false;
        },
      );
      if (!made) break;
    }
    return () => rm(filler, { recursive: true, force: true });
  };
  return { path, fill, remove };
}
