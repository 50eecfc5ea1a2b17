import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PodCgroups } from '../agent/index.ts';
import { addNetns, ensureNetnsMountPoint, nsenterNetArgs } from '../apimachinery/index.ts';
import { containerdLayout, prepareContainerd, waitUntilServing } from './containerd.ts';
import { readPid, startDaemon, stopDaemon } from './daemon.ts';
import { agentJoinFlags, nodeJoinPaths, prepareNodeJoin } from './node-join.ts';
import { detachLoopDevicesUnder, unmountUnder } from './teardown.ts';

const run = promisify(execFile);
const SKIFF = fileURLToPath(new URL('../bin/skiff', import.meta.url));

export interface LabOptions {
  /** where the lab keeps everything (short: unix socket paths live below it) */
  dir: string;
  nodes: number;
  /** a few letters naming the lab's links, namespaces and cgroups */
  id: string;
  /** the lab network's first three octets: the host is .1, node i is .(10+i) */
  lanPrefix: string;
  /** node i's pod CIDR (i from 1) */
  podCidrOf: (i: number) => string;
  registry: string;
  /** how the nodes' agents route to each other's pods (host-gw unless said) */
  flannelBackend?: 'host-gw' | 'vxlan';
  /** where the lab's API server listens, its PKI, and an administrator's kubeconfig (join tokens are made with it) */
  server: { port: number; pkiDir: string; adminKubeconfig: string };
  clusterDNS: string[];
  /** the cluster's pod and service networks, unreachable in every node unless routed */
  clusterCidr: string;
  serviceCidr: string;
}

export interface LabNode {
  name: string;
  index: number;
  ip: string;
  podCidr: string;
  netns: string;
  dir: string;
  socket: string;
}

const bridgeOf = (o: LabOptions) => `${o.id}br`;
export const labHostAddress = (o: Pick<LabOptions, 'lanPrefix'>) => `${o.lanPrefix}.1`;

export function labNodes(o: LabOptions): LabNode[] {
  return Array.from({ length: o.nodes }, (_, k) => {
    const index = k + 1;
    const dir = join(o.dir, `n${index}`);
    return {
      name: `${o.id}-node${index}`,
      index,
      ip: `${o.lanPrefix}.${10 + index}`,
      podCidr: o.podCidrOf(index),
      netns: `${o.id}-n${index}`,
      dir,
      socket: join(dir, 'state', 'containerd.sock'),
    };
  });
}

async function ip(args: string[]): Promise<void> {
  await run('ip', args);
}

/** The lab bridge with the host's address on it: made before the API server starts, which listens there. */
export async function createLabNetwork(o: LabOptions): Promise<void> {
  const br = bridgeOf(o);
  await ip(['link', 'add', br, 'type', 'bridge']);
  await ip(['addr', 'add', `${labHostAddress(o)}/24`, 'dev', br]);
  await ip(['link', 'set', br, 'up']);
}

/**
 * Starts every node: a network namespace on the lab bridge with unreachable
 * routes for the pod and service networks (its agent adds the routes to the
 * other nodes' pod CIDRs itself, host-gw); a containerd of its own (root, state,
 * socket; in the host's network namespace, so pulls reach the local registry —
 * sandboxes get namespaces of their own anyway); and an agent that runs in
 * the node's network namespace, so the CNI plugins, the Service proxy's table
 * and the kubelet API are the node's.
 */
export async function startLabNodes(o: LabOptions): Promise<LabNode[]> {
  const nodes = labNodes(o);
  const br = bridgeOf(o);
  await ensureNetnsMountPoint();
  for (const n of nodes) {
    await addNetns(n.netns);
    await ip(['link', 'add', `${o.id}v${n.index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns]);
    await ip(['link', 'set', `${o.id}v${n.index}`, 'master', br, 'up']);
    await ip(['-n', n.netns, 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0']);
    await ip(['-n', n.netns, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', n.netns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', n.netns, 'route', 'add', 'unreachable', o.clusterCidr]);
    await ip(['-n', n.netns, 'route', 'add', 'unreachable', o.serviceCidr]);
    await run('ip', ['netns', 'exec', n.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // the host reaches pods through their node
    await ip(['route', 'replace', n.podCidr, 'via', n.ip]);
  }
  await Promise.all(nodes.map((n) => startNode(o, n)));
  return nodes;
}

async function startNode(o: LabOptions, n: LabNode): Promise<void> {
  await prepareNode(o, n);
  await powerOnLabNode(o, n);
}

/** A node's files: containerd's config, its CNI conflist, and what its agent joins with. */
async function prepareNode(o: LabOptions, n: LabNode): Promise<void> {
  const delegateSocket = join(n.dir, 'cni.sock');
  // containerd runs in the host's namespace, the agent in the node's: streams are served on the lab network
  const layout = containerdLayout(n.dir, { registry: o.registry, delegateSocket, streamServerAddress: labHostAddress(o) });
  await mkdir(n.dir, { recursive: true });
  await prepareContainerd(layout);
  const cniConfDir = join(n.dir, 'net.d');
  await mkdir(cniConfDir, { recursive: true });
  await writeFile(
    join(cniConfDir, '10-lab.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: `${o.id}-pods`,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          hairpinMode: true,
          ipam: { type: 'host-local', dataDir: join(n.dir, 'ipam'), ranges: [[{ subnet: n.podCidr }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
        { type: 'loopback' },
      ],
    }),
  );
  await prepareNodeJoin({
    adminKubeconfig: o.server.adminKubeconfig,
    nodeName: n.name,
    server: `https://${labHostAddress(o)}:${o.server.port}`,
    dir: join(n.dir, 'node'),
    podCIDR: n.podCidr,
    clusterDNS: o.clusterDNS,
    containerRuntimeEndpoint: `unix://${layout.socket}`,
    podLogsDir: join(n.dir, 'pod-logs'),
    cgroupRoot: `${o.id}-node${n.index}`,
  });
}

/**
 * Powers a node on: its containerd and its agent (serving the bundled CSI
 * driver) start on the files it has (the agent with the identity it already
 * holds, as after a reboot).
 */
export async function powerOnLabNode(o: LabOptions, n: LabNode): Promise<void> {
  const delegateSocket = join(n.dir, 'cni.sock');
  const cniConfDir = join(n.dir, 'net.d');
  await startDaemon(['containerd', '--config', join(n.dir, 'etc', 'config.toml')], {
    logFile: join(n.dir, 'containerd.log'),
    pidFile: join(n.dir, 'containerd.pid'),
  });
  await waitUntilServing(n.socket);
  await mkdir(join(n.dir, 'agent'), { recursive: true });
  // nsenter --net switches the network namespace only: mounts (emptyDir tmpfs) and cgroups stay the host's
  await startDaemon(
    [
      'nsenter',
      ...nsenterNetArgs(n.netns),
      SKIFF,
      'agent',
      ...agentJoinFlags(nodeJoinPaths(join(n.dir, 'node'))),
      '--node-name',
      n.name,
      '--node-ip',
      n.ip,
      '--cni-conf-dir',
      cniConfDir,
      '--cni-delegate-socket',
      delegateSocket,
      '--root-dir',
      join(n.dir, 'agent'),
      '--cluster-cidr',
      o.clusterCidr,
      '--flannel-backend',
      o.flannelBackend ?? 'host-gw',
      '--csi-state-dir',
      join(n.dir, 'csi'),
    ],
    { logFile: join(n.dir, 'agent.log'), pidFile: join(n.dir, 'agent.pid') },
  );
}

/**
 * Powers a node off: every process of it dies at once (agent, containerd,
 * the shims and every container), as when a machine loses power;
 * what it keeps on disk stays for powerOnLabNode.
 */
export async function powerOffLabNode(o: LabOptions, n: LabNode): Promise<void> {
  for (const name of ['agent', 'containerd']) {
    const pid = await readPid(join(n.dir, `${name}.pid`));
    if (pid) process.kill(pid, 'SIGKILL');
    await rm(join(n.dir, `${name}.pid`), { force: true });
  }
  // the shims of this node's containerd, then whatever still runs in its pods' cgroups
  const { stdout } = await run('pgrep', ['-f', `containerd-shim.*-address ${n.socket}`]).catch(() => ({ stdout: '' }));
  for (const pid of stdout.split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
  await (await PodCgroups.detect(`${o.id}-node${n.index}`)).killAll();
}

/** Cuts a node off the lab network (its link down), or puts it back. */
export async function setLabNodeLink(o: LabOptions, n: LabNode, up: boolean): Promise<void> {
  await ip(['link', 'set', `${o.id}v${n.index}`, up ? 'up' : 'down']);
}

/**
 * Takes the lab apart: each agent stops, its sandboxes are removed by the
 * real CNI plugins inside the node's namespace, containerd stops, and the
 * namespaces (with their bridges, veths and nft tables), routes, cgroups,
 * mounts, volume loop devices and files go. Safe to run on a lab half made.
 */
export async function stopLab(o: LabOptions): Promise<void> {
  for (const n of labNodes(o)) {
    await stopDaemon(join(n.dir, 'agent.pid'));
    await run('nsenter', [
      ...nsenterNetArgs(n.netns),
      SKIFF,
      'lab',
      'clean-node',
      '--socket',
      n.socket,
      '--delegate-socket',
      join(n.dir, 'cni.sock'),
      '--cni-conf-dir',
      join(n.dir, 'net.d'),
      '--cni-cache-dir',
      join(n.dir, 'agent', 'cni-results'),
      // a node whose agent never started has nothing to clean
    ]).catch(() => undefined);
    await stopDaemon(join(n.dir, 'containerd.pid'), 20_000);
    await unmountUnder([n.dir]);
    await detachLoopDevicesUnder([n.dir]);
    // teardown is idempotent: what is gone already is fine
    await ip(['netns', 'del', n.netns]).catch(() => undefined);
    await ip(['route', 'del', n.podCidr]).catch(() => undefined);
    await (await PodCgroups.detect(`${o.id}-node${n.index}`)).removeAll();
  }
  await ip(['link', 'del', bridgeOf(o)]).catch(() => undefined);
}

/** Removes the lab's files once stopLab has run. */
export async function removeLabFiles(o: LabOptions): Promise<void> {
  await rm(o.dir, { recursive: true, force: true });
}
