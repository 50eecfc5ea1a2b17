import { readFile } from 'node:fs/promises';

/** A process's resident set size in KiB, from /proc. */
export async function rssKiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}
