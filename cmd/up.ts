import { parseArgs } from 'node:util';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import { RestClient, hostIPv4, loadKubeconfig } from '../apimachinery/index.ts';
import { bootedWithSystemd } from '../agent/index.ts';
import {
  agentJoinFlags,
  containerdLayout,
  installStorageDefaults,
  prepareContainerd,
  prepareNodeJoin,
  readPid,
  startDaemon,
  waitFor,
  waitUntilServing,
} from '../lab/index.ts';
import { HOST, SKIFF_BIN } from './host-layout.ts';

function say(msg: string): void {
  process.stderr.write(`skiff up: ${msg}\n`);
}

/** The command line that runs a component under our supervisor: restarted with back-off, seen by `skiff status`. */
function supervised(name: string): string[] {
  return [SKIFF_BIN, 'supervise', '--name', name, '--state-dir', HOST.run, '--'];
}

/**
 * skiff up: containerd, the server and the agent (serving the bundled CSI
 * driver in its own process) as background processes on this host (the last
 * two each under a supervisor that restarts it when it dies), with the
 * driver's default StorageClass;
 * returns once the node is Ready. Safe to run again: what already
 * runs is left alone.
 */
export async function runUp(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'node-name': { type: 'string' },
      'pod-cidr': { type: 'string', default: '10.244.0.0/24' },
      'cgroup-driver': { type: 'string' },
      timeout: { type: 'string', default: '120' },
    },
  });
  const nodeName = (values['node-name'] ?? hostname()).toLowerCase();
  const nodeIP = hostIPv4();
  const timeoutMs = Number(values.timeout) * 1000;
  // on a host systemd runs, pods' cgroups are its slices, as kubeadm sets the kubelet up (one manager of cgroups, not two)
  const cgroupDriver = values['cgroup-driver'] ?? ((await bootedWithSystemd()) ? 'systemd' : 'cgroupfs');
  if (cgroupDriver !== 'systemd' && cgroupDriver !== 'cgroupfs') throw new Error(`--cgroup-driver must be systemd or cgroupfs, got ${cgroupDriver}`);
  for (const d of [HOST.etc, HOST.run, HOST.logs, HOST.agentRoot, HOST.serverData]) await mkdir(d, { recursive: true });

  const layout = {
    ...containerdLayout(HOST.containerdBase, {
      registry: HOST.registry,
      delegateSocket: HOST.delegateSocket,
      state: HOST.containerdState,
      systemdCgroup: cgroupDriver === 'systemd',
    }),
    configDir: HOST.containerdBase,
    root: HOST.containerdRoot,
    cniBinDir: '/opt/skiff/cni/bin',
  };
  if (!(await readPid(join(HOST.run, 'containerd.pid')))) {
    await prepareContainerd(layout);
    await startDaemon(['containerd', '--config', join(layout.configDir, 'config.toml')], {
      logFile: join(HOST.logs, 'containerd.log'),
      pidFile: join(HOST.run, 'containerd.pid'),
    });
    say('started containerd');
  }
  await waitUntilServing(layout.socket, timeoutMs);

  if (!(await readPid(join(HOST.run, 'server.pid')))) {
    await startDaemon(
      [...supervised('server'), SKIFF_BIN, 'server', '--pki-dir', HOST.pki, '--write-kubeconfig', HOST.adminKubeconfig, '--secure-port', String(HOST.port)],
      { logFile: join(HOST.logs, 'server.log'), pidFile: join(HOST.run, 'server.pid') },
    );
    say('started the server');
  }
  let admin: RestClient | undefined;
  await waitFor(
    'the API server',
    async () => {
      admin ??= new RestClient(await loadKubeconfig(HOST.adminKubeconfig));
      await admin.request('GET', '/readyz').catch(() => admin?.request('GET', '/api'));
      return true;
    },
    timeoutMs,
    200,
  );

  if (!(await readPid(join(HOST.run, 'agent.pid')))) {
    const creds = await prepareNodeJoin({
      adminKubeconfig: HOST.adminKubeconfig,
      nodeName,
      server: `https://127.0.0.1:${HOST.port}`,
      dir: HOST.nodeDir,
      podCIDR: values['pod-cidr'],
      clusterDNS: ['10.96.0.10'],
      containerRuntimeEndpoint: `unix://${layout.socket}`,
      podLogsDir: HOST.podLogs,
      cgroupDriver,
    });
    await startDaemon(
      [
        ...supervised('agent'),
        SKIFF_BIN,
        'agent',
        ...agentJoinFlags(creds),
        '--node-name',
        nodeName,
        '--node-ip',
        nodeIP,
        '--root-dir',
        HOST.agentRoot,
        '--cni-delegate-socket',
        HOST.delegateSocket,
        '--csi-state-dir',
        HOST.csiState,
      ],
      {
        logFile: join(HOST.logs, 'agent.log'),
        pidFile: join(HOST.run, 'agent.pid'),
      },
    );
    say('started the agent');
  }
  await installStorageDefaults(admin as RestClient);
  await waitFor(
    `node ${nodeName} to be Ready`,
    async () => {
      const node = await (admin as RestClient).get<Node>({ resource: 'nodes', name: nodeName });
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    },
    timeoutMs,
    250,
  );
  admin?.close();
  process.stdout.write(`skiff is up: node ${nodeName} is Ready.\n  export KUBECONFIG=${HOST.adminKubeconfig}\n  logs in ${HOST.logs}\n`);
}
