import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLabNetwork,
  labHostAddress,
  labNodes,
  powerOffLabNode,
  powerOnLabNode,
  removeLabFiles,
  setLabNodeLink,
  startLabNodes,
  stopLab,
  waitFor,
  type LabNode,
  type LabOptions,
} from '../index.ts';
import { startTestApiServer, type Kubectl } from './api-server.ts';
import { CLUSTER_DNS_IP } from './cluster.ts';
import { REGISTRY } from './node.ts';

export interface TestLab extends Kubectl {
  nodes: LabNode[];
  /** the lab's API server process */
  server: ChildProcess;
  /** powers node i (from 1) off: every process of it dies at once */
  powerOff(i: number): Promise<void>;
  /** powers it on again */
  powerOn(i: number): Promise<void>;
  /** cuts node i off the lab network (false) or puts it back (true) */
  link(i: number, up: boolean): Promise<void>;
  teardown(): Promise<void>;
}

/**
 * A multi-node lab of the test's own: `skiff server` on the host at the lab
 * address, and `nodes` nodes, each a network namespace with its own
 * containerd and agent. `index` picks the lab network 10.255.<index>.0/24 and
 * pod CIDRs 10.244.<index+i>.0/24, clear of the other tests' subnets.
 */
export async function startTestLab(
  name: string,
  index: number,
  nodes: number,
  opts: Pick<LabOptions, 'flannelBackend'> & { serverArgs?: string[] } = {},
): Promise<TestLab> {
  const dir = await mkdtemp(join(tmpdir(), `sk-${name.slice(0, 5)}-`));
  const o: LabOptions = {
    dir,
    nodes,
    id: `sl${randomBytes(2).toString('hex')}`,
    lanPrefix: `10.255.${index}`,
    podCidrOf: (i) => `10.244.${index + i}.0/24`,
    registry: REGISTRY,
    server: { port: 0, pkiDir: join(dir, 'pki'), adminKubeconfig: '' },
    clusterDNS: [CLUSTER_DNS_IP],
    clusterCidr: '10.244.0.0/16',
    serviceCidr: '10.96.0.0/12',
    ...(opts.flannelBackend ? { flannelBackend: opts.flannelBackend } : {}),
  };
  let api: Awaited<ReturnType<typeof startTestApiServer>> | undefined;
  const teardown = async () => {
    await stopLab(o);
    await api?.stop();
    if (!process.env.SKIFF_TEST_KEEP) await removeLabFiles(o);
  };
  try {
    await createLabNetwork(o);
    const address = labHostAddress(o);
    api = await startTestApiServer(join(dir, 'server'), [
      '--bind-address',
      '0.0.0.0',
      '--advertise-address',
      address,
      '--no-allocate-node-cidrs',
      ...(opts.serverArgs ?? []),
    ]);
    o.server = { port: api.port, pkiDir: api.pkiDir, adminKubeconfig: api.kubeconfig };
    const started = await startLabNodes(o);
    const k = api;
    await waitFor(
      `${nodes} lab nodes Ready`,
      async () => {
        const ready = (
          await k.kubectlResult(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'])
        ).stdout;
        return labNodes(o).every((n) => ready.includes(`${n.name}=True`));
      },
      90_000,
      300,
    );
    const nodeOf = (i: number) => started[i - 1] as LabNode;
    return {
      kubeconfig: api.kubeconfig,
      kubectl: api.kubectl,
      kubectlResult: api.kubectlResult,
      nodes: started,
      server: api.server,
      powerOff: (i) => powerOffLabNode(o, nodeOf(i)),
      powerOn: (i) => powerOnLabNode(o, nodeOf(i)),
      link: (i, up) => setLabNodeLink(o, nodeOf(i), up),
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}
