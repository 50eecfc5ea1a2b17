import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { RestClient, loadKubeconfig, nsenterNetArgs } from '../apimachinery/index.ts';
import {
  createLabNetwork,
  installStorageDefaults,
  labHostAddress,
  labNodes,
  powerOffLabNode,
  powerOnLabNode,
  removeAllSandboxes,
  removeLabFiles,
  startDaemon,
  startLabNodes,
  stopDaemon,
  setLabNodeLink,
  stopLab,
  waitFor,
  type LabNode,
  type LabOptions,
} from '../lab/index.ts';
import { HOST, SKIFF_BIN } from './host-layout.ts';

export const LAB_USAGE = `skiff lab: a multi-node lab on this host

  skiff lab up [--nodes N]   the control plane on the host and N nodes (3), each a network
                             namespace with its own containerd and agent; returns once all are Ready
  skiff lab down             stop it and remove everything it made
  skiff lab exec NODE -- CMD run a command on a node (its network namespace): ip route, crictl-style checks …
  skiff lab stop NODE        power a node off: every process of it dies at once
  skiff lab start NODE       power it on again: containerd and the agent come back, pods as after a reboot
  skiff lab partition NODE   cut the node off the lab network; heal NODE puts it back
`;

const LAB_DIR = '/var/lib/skiff/lab';
const KUBECONFIG = '/etc/skiff/lab.kubeconfig';

function say(msg: string): void {
  process.stderr.write(`skiff lab: ${msg}\n`);
}

/** The lab `skiff lab up` makes: 10.255.0.0/24 between the nodes, node i's pods in 10.244.(100+i).0/24. */
function layout(nodes: number): LabOptions {
  return {
    dir: LAB_DIR,
    nodes,
    id: 'sklab',
    lanPrefix: '10.255.0',
    podCidrOf: (i) => `10.244.${100 + i}.0/24`,
    registry: HOST.registry,
    server: { port: 6445, pkiDir: join(LAB_DIR, 'pki'), adminKubeconfig: KUBECONFIG },
    clusterDNS: ['10.96.0.10'],
    clusterCidr: '10.244.0.0/16',
    serviceCidr: '10.96.0.0/12',
  };
}

async function up(nodes: number): Promise<void> {
  const o = layout(nodes);
  await mkdir(o.dir, { recursive: true });
  // the server writes a fresh one: an old lab's (another CA) must not be taken for it
  await rm(KUBECONFIG, { force: true });
  await createLabNetwork(o);
  const address = labHostAddress(o);
  await startDaemon(
    [
      SKIFF_BIN,
      'server',
      '--secure-port',
      String(o.server.port),
      '--bind-address',
      '0.0.0.0',
      '--advertise-address',
      address,
      '--pki-dir',
      o.server.pkiDir,
      '--datastore-endpoint',
      `sqlite://${join(o.dir, 'state.db')}`,
      '--write-kubeconfig',
      KUBECONFIG,
      '--no-allocate-node-cidrs',
    ],
    { logFile: join(o.dir, 'server.log'), pidFile: join(o.dir, 'server.pid') },
  );
  await waitFor('the lab kubeconfig', async () => !!(await loadKubeconfig(KUBECONFIG).catch(() => undefined)), 30_000);
  const client = new RestClient(await loadKubeconfig(KUBECONFIG));
  await waitFor('the lab API server', async () => !!(await client.get({ resource: 'namespaces', name: 'default' }).catch(() => undefined)), 30_000, 200);
  say(`control plane on ${address}:${o.server.port}`);
  await installStorageDefaults(client);
  await startLabNodes(o);
  const names = labNodes(o).map((n) => n.name);
  await waitFor(
    'the lab nodes to be Ready',
    async () => {
      const list = await client.get<{ items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] }>({
        resource: 'nodes',
      });
      return names.every((n) => list.items.find((i) => i.metadata.name === n)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    },
    120_000,
    500,
  );
  client.close();
  say(`${nodes} nodes Ready: ${names.join(', ')}`);
  process.stdout.write(`  export KUBECONFIG=${KUBECONFIG}\n`);
}

/** The running lab's layout: as many nodes as it has directories for (n1, n2, …). */
async function currentLayout(): Promise<LabOptions> {
  const nodeDirs = (await readdir(LAB_DIR).catch(() => [] as string[])).filter((d) => /^n\d+$/.test(d));
  return layout(Math.max(0, ...nodeDirs.map((d) => Number(d.slice(1)))));
}

/** A node of the running lab by name. */
async function labNode(name: string | undefined): Promise<{ o: LabOptions; node: LabNode }> {
  const o = await currentLayout();
  const node = labNodes(o).find((n) => n.name === name);
  if (!node)
    throw new Error(
      `no lab node ${name ?? '(none named)'}; the lab has ${
        labNodes(o)
          .map((n) => n.name)
          .join(', ') || 'no nodes (skiff lab up)'
      }`,
    );
  return { o, node };
}

async function down(): Promise<void> {
  // stopLab copes with a node half made
  const o = await currentLayout();
  await stopLab(o);
  if (await stopDaemon(join(o.dir, 'server.pid'))) say('stopped the lab API server');
  await removeLabFiles(o);
  await rm(KUBECONFIG, { force: true });
  say('done');
}

export async function runLab(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'up') {
    const { values } = parseArgs({ args: rest, options: { nodes: { type: 'string', default: '3' } } });
    const n = Number(values.nodes);
    if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`--nodes must be a whole number from 1 to 9, got ${values.nodes}`);
    return up(n);
  }
  if (sub === 'down') return down();
  if (sub === 'exec') {
    const { node } = await labNode(rest[0]);
    const cmd = rest.slice(rest[1] === '--' ? 2 : 1);
    if (!cmd.length) throw new Error('say what to run: skiff lab exec NODE -- CMD');
    const r = spawnSync('nsenter', [...nsenterNetArgs(node.netns), ...cmd], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
    return;
  }
  if (sub === 'stop' || sub === 'start' || sub === 'partition' || sub === 'heal') {
    const { o, node } = await labNode(rest[0]);
    if (sub === 'stop') await powerOffLabNode(o, node);
    if (sub === 'start') await powerOnLabNode(o, node);
    if (sub === 'partition' || sub === 'heal') await setLabNodeLink(o, node, sub === 'heal');
    say(`${node.name}: ${{ stop: 'powered off', start: 'powered on', partition: 'cut off the lab network', heal: 'back on the lab network' }[sub]}`);
    return;
  }
  if (sub === 'clean-node') {
    // run inside a node's network namespace by stopLab: the real CNI plugins tear each sandbox's network down there
    const { values } = parseArgs({
      args: rest,
      options: { socket: { type: 'string' }, 'delegate-socket': { type: 'string' }, 'cni-conf-dir': { type: 'string' }, 'cni-cache-dir': { type: 'string' } },
    });
    const removed = await removeAllSandboxes({
      socket: values.socket as string,
      delegateSocket: values['delegate-socket'] as string,
      cniConfDir: values['cni-conf-dir'] as string,
      cniBinDirs: [HOST.cniBinDir],
      cniCacheDir: values['cni-cache-dir'] as string,
    });
    say(`removed ${removed} pod sandbox(es)`);
    return;
  }
  process.stdout.write(LAB_USAGE);
  if (sub !== undefined && sub !== '--help' && sub !== '-h') throw new Error(`unknown lab command ${sub}`);
}
