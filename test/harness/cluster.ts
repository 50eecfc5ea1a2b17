import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { access, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopPid, waitFor, writeNodeCredentials } from '../../lab/index.ts';
import { freePort, startTestNode, type TestNode } from './index.ts';

const SKIFF = fileURLToPath(new URL('../../bin/skiff', import.meta.url));
export const KUBECTL = process.env.KUBECTL ?? '/opt/skiff/bin/kubectl';

export interface TestCluster {
  node: TestNode;
  nodeName: string;
  kubeconfig: string;
  server: ChildProcess;
  agent: ChildProcess;
  /** runs the real kubectl against this cluster; rejects with its stderr on a non-zero exit */
  kubectl(...args: string[]): Promise<string>;
  /** stops the agent process and starts a new one with the same configuration */
  restartAgent(): Promise<void>;
  /** like kubectl() but resolves with stdout, stderr and the exit code */
  kubectlResult(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  teardown(): Promise<void>;
}

async function spawnLogged(argv: string[], logFile: string): Promise<ChildProcess> {
  const out = await open(logFile, 'a');
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', out.fd, out.fd] });
  await out.close();
  return child;
}

/** `skiff server` and `skiff agent` as real processes on a test node of their own. */
export async function startTestCluster(name: string, subnetIndex: number): Promise<TestCluster> {
  const node = await startTestNode(name, subnetIndex);
  const nodeName = `${name}-node`;
  const port = await freePort();
  const kubeletPort = await freePort();
  const pki = join(node.dir, 'pki');
  const kubeconfig = join(node.dir, 'admin.kubeconfig');
  const server = await spawnLogged([SKIFF, 'server', '--secure-port', String(port), '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--pki-dir', pki, '--datastore-endpoint', `sqlite://${join(node.dir, 'state.db')}`, '--write-kubeconfig', kubeconfig, '--log-level', 'debug'], join(node.dir, 'server.log'));
  let agent: ChildProcess | undefined;
  let agentArgv: string[] = [];
  const kubectlResult = (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
      if (input !== undefined) child.stdin?.end(input);
    });
  const cluster: TestCluster = {
    node,
    nodeName,
    kubeconfig,
    server,
    get agent() {
      return agent as ChildProcess;
    },
    kubectlResult,
    async restartAgent() {
      if (agent?.pid) await stopPid(agent.pid, 10_000);
      agent = await spawnLogged(agentArgv, join(node.dir, 'agent.log'));
    },
    async kubectl(...args: string[]) {
      const r = await kubectlResult(args);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    async teardown() {
      if (agent?.pid) await stopPid(agent.pid, 10_000);
      if (server.pid) await stopPid(server.pid, 10_000);
      await node.teardown();
    },
  };
  try {
    await waitFor('the API server', async () => {
      await access(kubeconfig);
      return (await kubectlResult(['get', '--raw', '/readyz'])).code === 0;
    }, 30_000, 100);
    const creds = await writeNodeCredentials({
      pkiDir: pki,
      nodeName,
      nodeIP: '127.0.0.1',
      server: `https://127.0.0.1:${port}`,
      dir: join(node.dir, 'node'),
      kubeletPort,
      podCIDR: node.subnet,
      containerRuntimeEndpoint: `unix://${node.socket}`,
      podLogsDir: join(node.dir, 'pod-logs'),
    });
    await mkdir(join(node.dir, 'agent'), { recursive: true });
    agentArgv = [SKIFF, 'agent', '--config', creds.config, '--kubeconfig', creds.kubeconfig, '--node-name', nodeName, '--node-ip', '127.0.0.1', '--cni-conf-dir', node.cniConfDir, '--cni-delegate-socket', node.delegateSocket, '--root-dir', join(node.dir, 'agent'), '--log-level', 'debug'];
    agent = await spawnLogged(agentArgv, join(node.dir, 'agent.log'));
    await waitFor(`node ${nodeName} Ready`, async () => (await kubectlResult(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True', 30_000, 200);
  } catch (err) {
    await cluster.teardown();
    throw err;
  }
  return cluster;
}

/** Waits until a jsonpath query on an object prints `want` (or matches it). */
export async function waitForJsonPath(c: TestCluster, args: string[], jsonpath: string, want: string | RegExp, timeoutMs = 60_000): Promise<string> {
  let last = '';
  await waitFor(`${args.join(' ')} ${jsonpath} to be ${want}`, async () => {
    last = (await c.kubectlResult(['get', ...args, '-o', `jsonpath=${jsonpath}`])).stdout;
    return typeof want === 'string' ? last === want : want.test(last);
  }, timeoutMs, 250).catch((err: Error) => {
    throw new Error(`${err.message}; last value: ${JSON.stringify(last)}`);
  });
  return last;
}

