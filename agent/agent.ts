import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:net';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { EventRecorder, Informer, RestClient, hostIPv4, sleep, type ClientConfig, type Logger } from '../apimachinery/index.ts';
import { CniRunner, loadNetwork, serveCniDelegate } from './cni/index.ts';
import type { AgentConfig } from './config.ts';
import { CriClient } from './cri/index.ts';
import { NodeLease, NodeStatusReporter, readMachineInfo, type NodeHealth } from './node/index.ts';
import { PodSyncer, PodWorkers, Relister, StatusManager, parseResolvConf } from './pods/index.ts';
import { PodCgroups } from './stats/index.ts';
import { Prober } from './probes/index.ts';
import { ServiceProxy } from './proxy/index.ts';
import { apiObjects, watchPodSources } from './volumes/index.ts';
import { startKubeletServer } from './server/index.ts';

export interface AgentOptions {
  nodeName: string;
  nodeIP?: string;
  config: AgentConfig;
  apiServer: ClientConfig;
  /** the kubelet API's serving certificate and the CA its clients must chain to */
  servingTls: { cert: string; key: string; clientCA: string };
  cniConfDir: string;
  cniBinDirs: string[];
  cniDelegateSocket: string;
  /** agent state: CNI result cache, per-pod files */
  rootDir: string;
  /** the Service proxy's nftables table and the cluster's pod network; none: no proxy */
  proxy?: { table: string; clusterCidr: string };
  log: Logger;
}

const RELIST_PERIOD_MS = 1000;
const LEASE_RENEW_MS = 10_000;

async function every(ms: number, signal: AbortSignal, fn: () => Promise<void>, onError: (err: Error) => void): Promise<void> {
  while (!signal.aborted) {
    try {
      await fn();
    } catch (err) {
      onError(err as Error);
    }
    await sleep(ms, signal);
  }
}

async function waitForRuntime(cri: CriClient, log: Logger, signal: AbortSignal): Promise<{ runtimeName: string; runtimeVersion: string }> {
  for (let i = 0; ; i++) {
    try {
      const v = await cri.version();
      return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion };
    } catch (err) {
      if (signal.aborted || i >= 300) throw new Error(`container runtime at ${cri.endpoint} is not answering: ${(err as Error).message}`);
      if (i % 20 === 0) log.info({ endpoint: cri.endpoint }, 'waiting for the container runtime');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The node agent: registers the Node, heartbeats through its Lease, runs the
 * pods bound to it through CRI with the node's CNI network, reports their
 * status and events, and serves the kubelet API.
 */
export class Agent {
  #o: AgentOptions;
  #stop = new AbortController();
  #servers: Server[] = [];
  #client: RestClient;
  #cri: CriClient;

  constructor(o: AgentOptions) {
    this.#o = o;
    this.#client = new RestClient(o.apiServer, { userAgent: `skiff-agent/${o.nodeName}` });
    this.#cri = new CriClient(o.config.containerRuntimeEndpoint.replace(/^unix:\/\//, ''), { timeoutMs: o.config.runtimeRequestTimeoutMs });
  }

  async start(): Promise<void> {
    const { config, log, nodeName } = this.#o;
    const signal = this.#stop.signal;
    const runtime = await waitForRuntime(this.#cri, log, signal);
    log.info(runtime, 'container runtime is up');

    const hostIP = hostIPv4(this.#o.nodeIP);
    let podCidr = config.podCIDR;
    const cni = new CniRunner({ confDir: this.#o.cniConfDir, binDirs: this.#o.cniBinDirs, cacheDir: join(this.#o.rootDir, 'cni-results'), podCidr: () => podCidr || undefined });
    this.#servers.push(await serveCniDelegate(this.#o.cniDelegateSocket, cni, log.child({ component: 'cni' })));

    const health = async (): Promise<NodeHealth> => {
      const status = await this.#cri.status().catch((err: Error) => ({ status: { conditions: [{ type: 'RuntimeReady', status: false, reason: 'RuntimeDown', message: err.message }] } }));
      const runtimeCond = status.status?.conditions.find((c) => c.type === 'RuntimeReady');
      let networkMessage = '';
      try {
        await loadNetwork(this.#o.cniConfDir);
      } catch (err) {
        networkMessage = `container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: ${(err as Error).message}`;
      }
      const runtimeReady = runtimeCond?.status === true;
      return {
        runtimeReady,
        networkReady: networkMessage === '',
        message: !runtimeReady ? `container runtime is down: ${runtimeCond?.message ?? ''}` : networkMessage,
      };
    };
    const machine = await readMachineInfo(this.#o.rootDir);
    const reporter = new NodeStatusReporter({
      client: this.#client,
      machine,
      inputs: { nodeName, address: hostIP, port: config.port, podCIDR: config.podCIDR, maxPods: config.maxPods, runtimeVersion: `${runtime.runtimeName}://${runtime.runtimeVersion}`, systemReserved: config.systemReserved, kubeReserved: config.kubeReserved, evictionHard: config.evictionHard },
      health,
      log,
      reportFrequencyMs: config.nodeStatusReportFrequencyMs,
    });
    const node = await reporter.register();
    podCidr = node.spec?.podCIDR ?? podCidr;
    const lease = new NodeLease(this.#client, nodeName, config.nodeLeaseDurationSeconds, log);
    lease.setOwner(node.metadata?.uid);

    const events = new EventRecorder(this.#client, { component: 'kubelet', host: nodeName }, log);
    const hostDns = parseResolvConf(await readFile(config.resolvConf, 'utf8').catch(() => ''));
    const podEvent = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) => events.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message, fieldPath);
    let workers: PodWorkers | undefined;
    const prober = new Prober({
      execSync: (id, cmd, timeout) => this.#cri.execSync(id, cmd, timeout),
      changed: (uid) => workers?.resync(uid),
      kill: (pod, id, container, message) => {
        podEvent(pod, 'Normal', 'Killing', message, `spec.containers{${container.name}}`);
        void this.#cri.stopContainer(id, pod.spec?.terminationGracePeriodSeconds ?? 30)
          .catch((err: Error) => log.warn({ pod: pod.metadata?.name, err: err.message }, 'could not stop an unhealthy container'))
          .finally(() => workers?.resync(pod.metadata?.uid ?? ''));
      },
      event: podEvent,
      log: log.child({ component: 'prober' }),
    });
    const cgroups = await PodCgroups.detect(config.cgroupRoot);
    const syncer = new PodSyncer({
      cri: this.#cri,
      env: { nodeName, hostIP, clusterDNS: config.clusterDNS, clusterDomain: config.clusterDomain, hostDns, podLogsDir: config.podLogsDir },
      runtimeName: runtime.runtimeName,
      podsDir: join(this.#o.rootDir, 'pods'),
      events: (pod) => (type, reason, message, fieldPath) => podEvent(pod, type, reason, message, fieldPath),
      prober,
      objects: apiObjects(this.#client),
      cgroups,
      log: log.child({ component: 'pods' }),
    });
    const statusManager = new StatusManager(this.#client, log.child({ component: 'status' }));
    workers = new PodWorkers({ syncer, status: statusManager, client: this.#client, log: log.child({ component: 'pods' }) });
    const pods = new Informer<Pod>(this.#client, { resource: 'pods' }, { fieldSelector: `spec.nodeName=${nodeName}`, log });
    pods.addHandlers({
      onAdd: (p) => workers.update(p),
      onUpdate: (_old, p) => workers.update(p),
      onDelete: (p) => workers.remove(p.metadata?.uid ?? '', p),
    });

    void pods.run(signal);
    void statusManager.run(signal);
    watchPodSources(this.#client, pods, (uid) => workers?.resync(uid), log, signal);
    if (this.#o.proxy) void new ServiceProxy(this.#client, { ...this.#o.proxy, nodeName }, log).run(signal);
    void every(LEASE_RENEW_MS, signal, () => lease.renew(), (err) => log.warn({ err: err.message }, 'lease renewal failed'));
    void every(config.nodeStatusUpdateFrequencyMs, signal, () => reporter.sync(), (err) => log.warn({ err: err.message }, 'node status update failed'));
    await pods.hasSynced();

    // pods the runtime holds for this node but the API server no longer knows: stop and remove them
    const relister = new Relister(this.#cri, nodeName);
    const first = await relister.relist();
    const known = new Set(pods.list().map((p) => p.metadata?.uid));
    for (const uid of first.present) if (!known.has(uid)) workers.remove(uid);
    void every(RELIST_PERIOD_MS, signal, async () => {
      const { changed } = await relister.relist();
      for (const uid of changed) workers.resync(uid);
    }, (err) => log.warn({ err: err.message }, 'relist failed'));

    this.#servers.push(await startKubeletServer({ address: config.address, port: config.port, tls: this.#o.servingTls, pods, cri: this.#cri, observe: (uid) => syncer.observe(uid), log }));
    log.info({ node: nodeName, port: config.port, podCidr }, 'agent started');
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.#client.close();
    this.#cri.close();
  }
}

