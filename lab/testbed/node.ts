// What integration and e2e tests share: an isolated node on this host — its
// own containerd (root, state, socket), CNI config (bridge, subnet, IPAM dir)
// and delegate socket — and a teardown that removes everything it made.
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CniRunner, CriClient, serveCniDelegate } from '../../agent/index.ts';
import { silentLogger } from '../../apimachinery/index.ts';
import type { TestSystemd } from './systemd.ts';
import { containerdLayout, deleteLink, detachLoopDevicesUnder, removeAllSandboxes, spawnContainerd, stopPid, unmountUnder } from '../index.ts';

export const REGISTRY = '127.0.0.1:5000';

export interface TestNode {
  dir: string;
  socket: string;
  delegateSocket: string;
  cniConfDir: string;
  cniCacheDir: string;
  bridge: string;
  subnet: string;
  ipamDir: string;
  cri: CriClient;
  containerd: ChildProcess;
  /** stops containerd (SIGTERM, or SIGKILL with `kill`); its containers keep running under their shims */
  stopContainerd(o?: { kill?: boolean }): Promise<void>;
  /** starts it again with the same configuration and waits until CRI answers */
  startContainerd(): Promise<void>;
  /** serve the CNI delegate in this process (integration tests; e2e leaves it to the agent) */
  serveDelegate(): Promise<() => Promise<void>>;
  teardown(): Promise<void>;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/**
 * Starts a containerd of the test's own. `subnetIndex` picks a /24 inside
 * 10.244.0.0/16 (200–250 are left to tests) so parallel files never share one.
 */
export async function startTestNode(name: string, subnetIndex: number, opts: { registry?: string; systemd?: TestSystemd } = {}): Promise<TestNode> {
  const id = randomBytes(3).toString('hex');
  // unix socket paths must stay short: keep the directory shallow
  const dir = await mkdtemp(join(tmpdir(), `sk-${name.slice(0, 6)}-`));
  const bridge = `skt${id}`;
  const subnet = `10.244.${subnetIndex}.0/24`;
  const delegateSocket = join(dir, 'cni.sock');
  // every registry name resolves to this one: the local registry, unless the test brings its own
  const layout = containerdLayout(dir, { registry: opts.registry ?? REGISTRY, delegateSocket, systemdCgroup: opts.systemd !== undefined });
  const cniConfDir = join(dir, 'net.d');
  const ipamDir = join(dir, 'ipam');
  const cniCacheDir = join(dir, 'cni-cache');
  await mkdir(cniConfDir, { recursive: true });
  await writeFile(
    join(cniConfDir, '10-test.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: `skiff-test-${id}`,
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          hairpinMode: true,
          ipam: { type: 'host-local', dataDir: ipamDir, ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
        { type: 'loopback' },
      ],
    }),
  );
  // with a systemd of the test's own, containerd runs beside it (runc hands it container PIDs)
  const spawn = () => spawnContainerd(layout, join(dir, 'containerd.log'), opts.systemd?.inside);
  let containerd: ChildProcess | undefined = await spawn();
  const stopContainerd = async (o: { kill?: boolean } = {}) => {
    if (containerd?.pid) await stopPid(containerd.pid, 10_000, o.kill ? 'SIGKILL' : 'SIGTERM');
    containerd = undefined;
  };
  const cri = new CriClient(layout.socket);
  const node: TestNode = {
    dir,
    socket: layout.socket,
    delegateSocket,
    cniConfDir,
    cniCacheDir,
    bridge,
    subnet,
    ipamDir,
    cri,
    get containerd() {
      return containerd as ChildProcess;
    },
    stopContainerd,
    async startContainerd() {
      containerd ??= await spawn();
    },
    async serveDelegate() {
      const runner = new CniRunner({ confDir: cniConfDir, binDirs: ['/usr/lib/cni'], cacheDir: cniCacheDir });
      const server = await serveCniDelegate({ socketPath: delegateSocket, runner, log: silentLogger });
      return () => new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async teardown() {
      try {
        await removeAllSandboxes({ socket: layout.socket, delegateSocket, cniConfDir, cniBinDirs: ['/usr/lib/cni'], cniCacheDir });
      } finally {
        cri.close();
        await stopContainerd();
        await unmountUnder([dir]);
        await detachLoopDevicesUnder([dir]);
        await deleteLink(bridge);
        // SKIFF_TEST_KEEP=1 keeps logs and state for a look after a failure
        if (!process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
      }
    },
  };
  return node;
}
