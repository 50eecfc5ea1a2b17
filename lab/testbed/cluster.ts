import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PodCgroups, cleanupProxy, removePolicyTable } from '../../agent/index.ts';
import { agentJoinFlags, prepareNodeJoin, stopPid, waitFor } from '../index.ts';
import { SKIFF, spawnLogged, startTestApiServer, type KubectlResult, type TestApiServer } from './api-server.ts';
import { freePort, startTestNode, type TestNode } from './node.ts';

export { KUBECTL } from './api-server.ts';

/** The kube-dns Service's ClusterIP with the default service range. */
export const CLUSTER_DNS_IP = '10.96.0.10';

export interface TestCluster {
  node: TestNode;
  nodeName: string;
  kubeconfig: string;
  server: ChildProcess;
  agent: ChildProcess;
  /** runs the real kubectl against this cluster; rejects with its stderr on a non-zero exit */
  kubectl(...args: string[]): Promise<string>;
  /** stops the agent process (SIGTERM, or SIGKILL with `kill`) and starts a new one with the same configuration */
  restartAgent(o?: { kill?: boolean }): Promise<void>;
  /** stops the agent process (SIGTERM, or SIGKILL with `kill`); its pods keep running in containerd */
  stopAgent(o?: { kill?: boolean }): Promise<void>;
  /** stops the API server (SIGKILL, or a clean stop), leaves it down for `downMs` (running `whileDown` meanwhile), and starts it again on its state and port */
  restartServer(opts: { kill: boolean; downMs: number; whileDown?: () => Promise<void> }): Promise<void>;
  /** starts the bundled CSI driver as a process announcing itself to the agent (state in the test node's directory) */
  startCsiDriver(): Promise<void>;
  /** stops it (its volumes stay staged and published) */
  stopCsiDriver(): Promise<void>;
  /** the agent's root directory (pods, plugins, plugin registry) */
  agentRoot: string;
  /** like kubectl() but resolves with stdout, stderr and the exit code */
  kubectlResult(args: string[], input?: string): Promise<KubectlResult>;
  teardown(): Promise<void>;
}

/** `skiff server` and `skiff agent` as real processes on a test node of their own. */
export interface TestClusterOptions {
  serverArgs?: string[];
  /** KubeletConfiguration fields for the agent beyond the test defaults */
  agentConfig?: Record<string, unknown>;
  /** the agent's root directory (its filesystem is the node's nodefs); a directory of the test node by default */
  agentRootDir?: string;
  /** host:port every image name resolves to, instead of the local registry */
  registry?: string;
}

export async function startTestCluster(name: string, subnetIndex: number, opts: TestClusterOptions = {}): Promise<TestCluster> {
  const node = await startTestNode(name, subnetIndex, { registry: opts.registry });
  const nodeName = `${name}-node`;
  const proxyTable = `skiff-test-${name}`;
  // pod cgroups of this test's own, removed at teardown
  const cgroups = await PodCgroups.detect(`skiff-test-${node.bridge}`);
  let api: TestApiServer;
  // pods reach the DNS add-on at the node's bridge address (bound on all addresses: the bridge appears with the first pod)
  const serverArgs = ['--cluster-dns-address', node.subnet.replace(/\.0\/24$/, '.1'), '--cluster-dns-bind-address', '0.0.0.0', ...(opts.serverArgs ?? [])];
  try {
    api = await startTestApiServer(node.dir, serverArgs);
  } catch (err) {
    await node.teardown();
    throw err;
  }
  const { port, kubeconfig, kubectl, kubectlResult } = api;
  const kubeletPort = await freePort();
  let agent: ChildProcess | undefined;
  let csiDriver: ChildProcess | undefined;
  let agentArgv: string[] = [];
  const agentRoot = opts.agentRootDir ?? join(node.dir, 'agent');
  const cluster: TestCluster = {
    node,
    nodeName,
    kubeconfig,
    get server() {
      return api.server;
    },
    agentRoot,
    async startCsiDriver() {
      csiDriver = await spawnLogged(
        [
          SKIFF,
          'csi-driver',
          '--endpoint',
          join(node.dir, 'csi.sock'),
          '--state-dir',
          join(node.dir, 'csi-state'),
          '--node-id',
          nodeName,
          '--registry-dir',
          join(agentRoot, 'plugins_registry'),
          '--log-level',
          'debug',
        ],
        join(node.dir, 'csi-driver.log'),
      );
    },
    async stopCsiDriver() {
      if (csiDriver?.pid) await stopPid(csiDriver.pid, 10_000);
      csiDriver = undefined;
    },
    get agent() {
      return agent as ChildProcess;
    },
    kubectlResult,
    kubectl,
    async restartAgent(o = {}) {
      await cluster.stopAgent(o);
      agent = await spawnLogged(agentArgv, join(node.dir, 'agent.log'));
    },
    async stopAgent(o = {}) {
      if (agent?.pid) await stopPid(agent.pid, 10_000, o.kill ? 'SIGKILL' : 'SIGTERM');
      agent = undefined;
    },
    async restartServer({ kill, downMs, whileDown }) {
      if (kill && api.server.pid) process.kill(api.server.pid, 'SIGKILL');
      await api.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await whileDown?.();
      api = await startTestApiServer(node.dir, serverArgs, { port });
    },
    async teardown() {
      if (agent?.pid) await stopPid(agent.pid, 10_000);
      await cluster.stopCsiDriver();
      await api.stop();
      // no proxy table was made (the agent never got that far)
      await cleanupProxy(proxyTable).catch(() => undefined);
      await removePolicyTable(proxyTable).catch(() => undefined);
      await node.teardown();
      await cgroups.removeAll();
    },
  };
  try {
    const creds = await prepareNodeJoin({
      adminKubeconfig: kubeconfig,
      nodeName,
      server: `https://127.0.0.1:${port}`,
      dir: join(node.dir, 'node'),
      kubeletPort,
      podCIDR: node.subnet,
      clusterDNS: [CLUSTER_DNS_IP],
      containerRuntimeEndpoint: `unix://${node.socket}`,
      podLogsDir: join(node.dir, 'pod-logs'),
      cgroupRoot: `skiff-test-${node.bridge}`,
      extraConfig: opts.agentConfig,
    });
    await mkdir(agentRoot, { recursive: true });
    agentArgv = [
      SKIFF,
      'agent',
      ...agentJoinFlags(creds),
      '--node-name',
      nodeName,
      '--node-ip',
      '127.0.0.1',
      '--cni-conf-dir',
      node.cniConfDir,
      '--cni-delegate-socket',
      node.delegateSocket,
      '--root-dir',
      agentRoot,
      '--proxy-table',
      proxyTable,
      '--log-level',
      'debug',
    ];
    agent = await spawnLogged(agentArgv, join(node.dir, 'agent.log'));
    await waitFor(
      `node ${nodeName} Ready`,
      async () => (await kubectlResult(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
      30_000,
      200,
    );
  } catch (err) {
    await cluster.teardown();
    throw err;
  }
  return cluster;
}

/** Waits until a jsonpath query on an object prints `want` (or matches it). */
export async function waitForJsonPath(
  c: Pick<TestCluster, 'kubectlResult'>,
  args: string[],
  jsonpath: string,
  want: string | RegExp,
  timeoutMs = 60_000,
): Promise<string> {
  let last = '';
  await waitFor(
    `${args.join(' ')} ${jsonpath} to be ${want}`,
    async () => {
      last = (await c.kubectlResult(['get', ...args, '-o', `jsonpath=${jsonpath}`])).stdout;
      return typeof want === 'string' ? last === want : want.test(last);
    },
    timeoutMs,
    250,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last value: ${JSON.stringify(last)}`);
  });
  return last;
}

/** kubectl apply of a manifest; rejects with kubectl's stderr. */
export async function applyManifest(c: Pick<TestCluster, 'kubectlResult'>, manifest: string): Promise<void> {
  const r = await c.kubectlResult(['apply', '-f', '-'], manifest);
  if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
}

/** The ready condition of each endpoint of a Service's first EndpointSlice, space-separated ("true true false"). */
export function endpointsReady(c: Pick<TestCluster, 'kubectl'>, service: string): Promise<string> {
  return c.kubectl('get', 'endpointslices', '-l', `kubernetes.io/service-name=${service}`, '-o', 'jsonpath={.items[0].endpoints[*].conditions.ready}');
}

/** The Events about one object, a "Reason: message" line each. */
export function eventsOf(c: Pick<TestCluster, 'kubectl'>, name: string): Promise<string> {
  return c.kubectl('get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}');
}

/**
 * A Deployment `echo` of busybox web servers answering with their pod's name
 * on port 8080 (Services tests tell backends apart by it); `spread` puts
 * each replica on a node of its own.
 */
export function echoDeployment(replicas: number, opts: { spread?: boolean } = {}): string {
  const spread = opts.spread
    ? '\n      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: echo}}}]'
    : '';
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      terminationGracePeriodSeconds: 1${spread}
      containers:
      - name: web
        image: busybox
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
`;
}
