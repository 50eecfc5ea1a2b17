import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mountTable } from './mounts.ts';

// Named network namespaces live as nsfs mounts on files in /run/netns, where
// containerd's CNI namespaces live too. `ip netns add` on a host where
// /run/netns is no mount point of its own bind-mounts the directory over
// itself first: every namespace already mounted there is hidden under the new
// mount, and containerd can never unlink it again (EBUSY). So /run/netns is
// made a shared mount point of its own while nothing is mounted in it, and
// named namespaces are made without ip's mount dance.

const execFileP = promisify(execFile);
export const NETNS_DIR = '/run/netns';

/**
 * Makes /run/netns a shared mount point of its own unless it is one already;
 * says 'busy' (and changes nothing) when namespaces are mounted there already,
 * since a mount over them would hide them.
 */
export async function ensureNetnsMountPoint(): Promise<'mounted' | 'already' | 'busy'> {
  await mkdir(NETNS_DIR, { recursive: true });
  const points = (await mountTable()).map((m) => m.mountPoint);
  if (points.includes(NETNS_DIR)) return 'already';
  if (points.some((p) => p.startsWith(`${NETNS_DIR}/`))) return 'busy';
  await execFileP('mount', ['--bind', NETNS_DIR, NETNS_DIR]);
  await execFileP('mount', ['--make-shared', NETNS_DIR]);
  return 'mounted';
}

/** nsenter's arguments that run what follows them in the named network namespace. */
export function nsenterNetArgs(name: string): string[] {
  return [`--net=${join(NETNS_DIR, name)}`, '--'];
}

/** A new network namespace named `name` (as `ip netns add`, but without mounting anything over /run/netns). */
export async function addNetns(name: string): Promise<void> {
  await mkdir(NETNS_DIR, { recursive: true });
  const path = join(NETNS_DIR, name);
  // `wx`: a namespace of that name already there is an error, as ip's "File exists"
  await writeFile(path, '', { flag: 'wx', mode: 0 });
  try {
    await execFileP('unshare', [`--net=${path}`, 'true']);
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}
