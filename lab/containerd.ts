import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, symlink, copyFile, chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CriClient, writeContainerdConfig, type ContainerdLayout } from '../agent/index.ts';
import { waitFor } from './daemon.ts';

export const DELEGATE_PLUGIN = fileURLToPath(new URL('../agent/cni/skiff-cni-delegate', import.meta.url));

/** The containerd files of one node under `base` (tests and lab nodes each get their own). */
export function containerdLayout(
  base: string,
  opts: { registry: string; delegateSocket: string; state?: string; streamServerAddress?: string; systemdCgroup?: boolean },
): ContainerdLayout {
  const state = opts.state ?? join(base, 'state');
  return {
    configDir: join(base, 'etc'),
    root: join(base, 'root'),
    state,
    socket: join(state, 'containerd.sock'),
    registry: opts.registry,
    cniBinDir: join(base, 'cni-bin'),
    delegateSocket: opts.delegateSocket,
    ...(opts.streamServerAddress ? { streamServerAddress: opts.streamServerAddress } : {}),
    ...(opts.systemdCgroup ? { systemdCgroup: true } : {}),
  };
}

/** Writes the config and the CNI bin dir (loopback + our delegate) containerd needs. */
export async function prepareContainerd(l: ContainerdLayout): Promise<void> {
  await writeContainerdConfig(l);
  await mkdir(l.cniBinDir, { recursive: true });
  await rm(join(l.cniBinDir, 'loopback'), { force: true });
  await symlink('/usr/lib/cni/loopback', join(l.cniBinDir, 'loopback'));
  await copyFile(DELEGATE_PLUGIN, join(l.cniBinDir, 'skiff-delegate'));
  await chmod(join(l.cniBinDir, 'skiff-delegate'), 0o755);
}

/**
 * Starts containerd as our child (tests) and waits until CRI answers;
 * `wrap` runs it inside other namespaces (a test's own systemd).
 */
export async function spawnContainerd(l: ContainerdLayout, logFile: string, wrap: (cmd: string[]) => string[] = (cmd) => cmd): Promise<ChildProcess> {
  await prepareContainerd(l);
  const out = await open(logFile, 'a');
  const [cmd, ...args] = wrap(['containerd', '--config', join(l.configDir, 'config.toml')]);
  const child = spawn(cmd!, args, { stdio: ['ignore', out.fd, out.fd] });
  await out.close();
  await waitUntilServing(l.socket);
  return child;
}

export async function waitUntilServing(socket: string, timeoutMs = 30_000): Promise<void> {
  const cri = new CriClient(socket, { timeoutMs: 2000 });
  try {
    await waitFor(
      `containerd on ${socket}`,
      async () => (await cri.status()).status?.conditions.some((c) => c.type === 'RuntimeReady' && c.status) ?? false,
      timeoutMs,
    );
  } finally {
    cri.close();
  }
}
