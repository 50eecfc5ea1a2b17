import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CriClient } from '../../agent/index.ts';
import type { TestCluster } from './cluster.ts';

const run = promisify(execFile);

/** What a test node still holds of pods that are gone: each list should be empty once its pods are deleted. */
export interface NodeLeaks {
  /** sandboxes and containers containerd still has */
  sandboxes: string[];
  containers: string[];
  /** veths still on the node's bridge */
  veths: string[];
  /** addresses host-local IPAM still has handed out */
  addresses: string[];
  /** pod cgroups left under the node's cgroup root */
  cgroups: string[];
  /** mounts left under the agent's pod directories (volumes) */
  mounts: string[];
}

/** Directories named pod* below `dir`, recursively (a missing dir holds none). */
async function podDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    if (e.name.startsWith('pod')) found.push(join(dir, e.name));
    else found.push(...(await podDirs(join(dir, e.name))));
  }
  return found;
}

/** Where a node keeps what its pods hold. */
export interface NodePlaces {
  cri: Pick<CriClient, 'listPodSandbox' | 'listContainers'>;
  /** the pods' bridge, in this network namespace (the host's when none) */
  bridge: string;
  netns?: string;
  /** host-local IPAM's data directory */
  ipamDir: string;
  /** the name of the node's cgroup root */
  cgroupRoot: string;
  /** the agent's --root-dir */
  agentRoot: string;
}

/** What a node still holds of pods: sandboxes, containers, veths, addresses, cgroups, mounts. */
export async function leaksOn(p: NodePlaces): Promise<NodeLeaks> {
  const sandboxes = (await p.cri.listPodSandbox()).map((s) => s.metadata?.name ?? s.id);
  const containers = (await p.cri.listContainers()).map((ct) => ct.metadata?.name ?? ct.id);
  const links = JSON.parse((await run('ip', [...(p.netns ? ['-n', p.netns] : []), '-j', 'link', 'show', 'master', p.bridge])).stdout || '[]') as {
    ifname: string;
  }[];
  const networks = await readdir(p.ipamDir).catch(() => []);
  const addresses: string[] = [];
  for (const n of networks) {
    for (const f of await readdir(join(p.ipamDir, n)).catch(() => [])) if (/^[\d.]+$|:/.test(f)) addresses.push(f);
  }
  // the agent's pod cgroups, under the node's own root (cgroup v1's memory controller, or v2's single tree)
  const root = (await readFile('/proc/self/mountinfo', 'utf8')).includes(' /sys/fs/cgroup/memory ') ? '/sys/fs/cgroup/memory' : '/sys/fs/cgroup';
  const cgroups = await podDirs(join(root, p.cgroupRoot));
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(join(p.agentRoot, 'pods')));
  return { sandboxes, containers, veths: links.map((l) => l.ifname), addresses, cgroups, mounts };
}

/** What the test node of `c` still holds of pods. */
export function nodeLeaks(c: TestCluster): Promise<NodeLeaks> {
  return leaksOn({ cri: c.node.cri, bridge: c.node.bridge, ipamDir: c.node.ipamDir, cgroupRoot: `skiff-test-${c.node.bridge}`, agentRoot: c.agentRoot });
}

export const NO_LEAKS: NodeLeaks = { sandboxes: [], containers: [], veths: [], addresses: [], cgroups: [], mounts: [] };
