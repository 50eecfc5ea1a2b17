import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { mountsUnder, silentLogger, type Logger } from '../apimachinery/index.ts';
import { CniRunner, CriClient } from '../agent/index.ts';
import { serveCniDelegate } from '../agent/cni/index.ts';

const run = promisify(execFile);

/**
 * Stops and removes every pod sandbox (and so every container) in a
 * containerd. While it runs, this process answers the delegate CNI socket in
 * place of the agent, so each sandbox's network is torn down by the real
 * plugins (veth, IP allocation, port mappings).
 */
export async function removeAllSandboxes(args: {
  socket: string;
  delegateSocket: string;
  cniConfDir: string;
  cniBinDirs: string[];
  cniCacheDir: string;
  log?: Logger;
}): Promise<number> {
  const log = args.log ?? silentLogger;
  const runner = new CniRunner({ confDir: args.cniConfDir, binDirs: args.cniBinDirs, cacheDir: args.cniCacheDir });
  const server = await serveCniDelegate({ socketPath: args.delegateSocket, runner, log });
  const cri = new CriClient(args.socket, { timeoutMs: 60_000 });
  try {
    const sandboxes = await cri.listPodSandbox();
    for (const s of sandboxes) {
      try {
        await cri.stopPodSandbox(s.id);
        await cri.removePodSandbox(s.id);
      } catch (err) {
        log.warn({ sandbox: s.id, err: (err as Error).message }, 'could not remove sandbox');
      }
    }
    return sandboxes.length;
  } finally {
    cri.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(args.delegateSocket, { force: true });
  }
}

export async function unmountUnder(prefixes: string[]): Promise<void> {
  for (const p of await mountsUnder(prefixes)) {
    // gone already (a parent's lazy unmount took it)
    await run('umount', ['-l', p]).catch(() => undefined);
  }
}

/** Detaches loop devices whose backing files are at or below any of `prefixes` (a busy one goes once its last user lets go). */
export async function detachLoopDevicesUnder(prefixes: string[]): Promise<number> {
  const { stdout } = await run('losetup', ['-l', '-n', '--raw', '-O', 'NAME,BACK-FILE']).catch(() => ({ stdout: '' }));
  let n = 0;
  for (const line of stdout.split('\n')) {
    const [device, file] = line.trim().split(/\s+/, 2);
    if (!device || !file || !prefixes.some((p) => file === p || file.startsWith(`${p}/`))) continue;
    // detached already
    await run('losetup', ['-d', device]).catch(() => undefined);
    n++;
  }
  return n;
}

export async function deleteLink(name: string): Promise<void> {
  // no such link: nothing to delete
  await run('ip', ['link', 'del', name]).catch(() => undefined);
}

/** Network namespaces (ip netns) whose names start with `prefix`. */
export async function netnsNames(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}
