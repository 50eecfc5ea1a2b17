import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:net';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import {
  EventRecorder,
  Informer,
  NETNS_DIR,
  RestClient,
  certificateValidity,
  ensureNetnsMountPoint,
  hostIPv4,
  type ClientConfig,
  type KeyPair,
  type Logger,
} from '../apimachinery/index.ts';
import { CertificateManager, CertificateStore, clientCertificateAsk, requestCertificate, servingCertificateAsk } from './certificates/index.ts';
import { CniRunner, loadNetwork, serveCniDelegate } from './cni/index.ts';
import type { AgentConfig } from './config.ts';
import { CriClient } from './cri/index.ts';
import { NodeLease, NodeStatusReporter, readMachineInfo, runtimeHealth } from './node/index.ts';
import {
  MANAGED_BY,
  PodManager,
  PodRequests,
  PodSyncer,
  runtimeHandlers,
  PodWorkers,
  Relister,
  StatusManager,
  parseResolvConf,
  podLogDirectory,
  type PodSink,
} from './pods/index.ts';
import { PodCgroups, StatsSummary, readNodeStats, sampleContainers, type NodeStats, type PodStatsSource } from './stats/index.ts';
import { Prober } from './probes/index.ts';
import { ServiceProxy } from './proxy/index.ts';
import { NetworkPolicyEnforcer, policyTable } from './network-policy/index.ts';
import { ServiceAccountTokenCache, apiObjects, watchPodSources } from './volumes/index.ts';
import { claimVolumeStats, startNodeStorage, type CsiVolumes } from './storage/index.ts';
import { NodeRoutes, VTEP_MAC_ANNOTATION, ensureVxlanDevice, vxlanRoutes, vxlanTable } from './network/index.ts';
import { KubeletAuth, startKubeletServer } from './server/index.ts';
import { CadvisorMetrics, KubeletMetrics, SAMPLE_PERIOD_MS } from './metrics/index.ts';
import { every } from './every.ts';
import { runHousekeeping } from './housekeeping.ts';
import { startNodePressure } from './node-pressure.ts';

export interface AgentOptions {
  nodeName: string;
  nodeIP?: string;
  config: AgentConfig;
  apiServer: ClientConfig;
  /** the kubelet API's serving certificate (none: asked of the cluster, serverTLSBootstrap) and the CA its clients must chain to */
  servingTls: { cert?: string; key?: string; clientCA: string };
  /** where the certificates the agent gets from the cluster are kept (`--cert-dir`) */
  certDir: string;
  cniConfDir: string;
  cniBinDirs: string[];
  cniDelegateSocket: string;
  /** agent state: CNI result cache, per-pod files */
  rootDir: string;
  /** the Service proxy's nftables table and the cluster's pod network; none: no proxy */
  proxy?: { table: string; clusterCidr: string };
  /** how this node reaches other nodes' pods: routes the agent keeps (host-gw: nodes share a link; vxlan: they need not), or none */
  nodeRoutes: 'host-gw' | 'vxlan' | 'none';
  log: Logger;
}

const LEASE_RENEW_MS = 10_000;
const MIRROR_SYNC_MS = 10_000;

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
  #metrics: KubeletMetrics;

  constructor(o: AgentOptions) {
    this.#o = o;
    this.#client = new RestClient(o.apiServer, { userAgent: `skiff-agent/${o.nodeName}` });
    this.#metrics = new KubeletMetrics({ nodeName: o.nodeName });
    this.#cri = new CriClient(o.config.containerRuntimeEndpoint.replace(/^unix:\/\//, ''), {
      timeoutMs: o.config.runtimeRequestTimeoutMs,
      observe: (method, seconds, failed) => this.#metrics.runtimeOperation(method, seconds, failed),
    });
  }

  async start(): Promise<void> {
    const { config, log, nodeName, rootDir } = this.#o;
    const signal = this.#stop.signal;
    const client = this.#client;
    const cri = this.#cri;
    const metrics = this.#metrics;
    const runtime = await waitForRuntime(cri, log, signal);
    log.info(runtime, 'container runtime is up');
    // before any pod starts: a later `ip netns add` must not bind /run/netns over the pods' namespaces
    if ((await ensureNetnsMountPoint()) === 'busy')
      log.warn(
        { dir: NETNS_DIR },
        'network namespaces are mounted in a directory that is no mount point of its own; `ip netns add` on this host would hide them',
      );

    const hostIP = hostIPv4(this.#o.nodeIP);
    const { reporter, node } = await this.#registerNode(runtime, hostIP);
    if (config.rotateCertificates) this.#rotateClientCertificate();
    const podCidr = node.spec?.podCIDR ?? config.podCIDR;
    const cni = new CniRunner({
      confDir: this.#o.cniConfDir,
      binDirs: this.#o.cniBinDirs,
      cacheDir: join(rootDir, 'cni-results'),
      podCidr: () => podCidr || undefined,
    });
    this.#servers.push(
      await serveCniDelegate({
        socketPath: this.#o.cniDelegateSocket,
        runner: cni,
        added: (uid, seconds) => metrics.podStart.phase(uid, 'network', seconds),
        log: log.child({ component: 'cni' }),
      }),
    );

    const events = new EventRecorder(client, { component: 'kubelet', host: nodeName }, log);
    const podEvent = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) =>
      events.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message, fieldPath);
    // the Services every container's service-link variables come from (and the proxy's)
    const services = new Informer<Service>(client, { resource: 'services' }, { log });
    // the RuntimeClasses, whose handlers pods' sandboxes run under
    const runtimeClasses = new Informer<RuntimeClass>(client, { group: 'node.k8s.io', resource: 'runtimeclasses' }, { log });
    const requests = new PodRequests();
    const prober = new Prober({
      execSync: (id, cmd, timeout) => cri.execSync(id, cmd, timeout),
      changed: (uid) => requests.resync(uid),
      kill: (pod, id, container, message) =>
        requests.act(pod.metadata?.uid ?? '', async () => {
          podEvent(pod, 'Normal', 'Killing', message, `spec.containers{${container.name}}`);
          await cri.stopContainer(id, pod.spec?.terminationGracePeriodSeconds ?? 30);
        }),
      event: podEvent,
      metrics,
      log: log.child({ component: 'prober' }),
    });
    const cgroups = await PodCgroups.detect(config.cgroupRoot, { driver: config.cgroupDriver });
    const podsDir = join(rootDir, 'pods');
    const podStats: PodStatsSource = { cgroups, podsDir, logDir: (pod) => podLogDirectory(pod, config.podLogsDir) };
    const tokens = new ServiceAccountTokenCache(client, (uid) => requests.resync(uid));
    const objects = {
      ...apiObjects(client),
      serviceAccountToken: (pod: Pod, audience: string | undefined, seconds: number) => tokens.get(pod, audience, seconds),
      nodeAllocatable: () => reporter.node?.status?.allocatable,
    };
    const csiVolumes = await startNodeStorage({ client, nodeName, rootDir, podsDir, claims: objects, log, signal });
    metrics.showVolumes(() => claimVolumeStats({ pods: () => workers.active(), csiVolumes, podsDir }));
    // pods the runtime holds for this node whose state changed since they were last synced are synced again
    const relister = new Relister({ cri, nodeName, relisted: (seconds, counts) => metrics.relisted(seconds, counts) });
    const syncer = new PodSyncer({
      cri,
      env: {
        nodeName,
        hostIP,
        clusterDNS: config.clusterDNS,
        clusterDomain: config.clusterDomain,
        // no resolv.conf on the host: pods with dnsPolicy Default get no nameservers, as the kubelet gives them
        hostDns: parseResolvConf(await readFile(config.resolvConf, 'utf8').catch(() => '')),
        podLogsDir: config.podLogsDir,
        services: () => services.store.values(),
        allocatable: () => reporter.node?.status?.allocatable,
      },
      runtimeName: runtime.runtimeName,
      podsDir,
      events: (pod) => (type, reason, message, fieldPath) => podEvent(pod, type, reason, message, fieldPath),
      prober,
      objects,
      claims: csiVolumes,
      cgroups,
      runtimeHandler: runtimeHandlers(runtimeClasses),
      settled: (uid, observed) => relister.note(uid, observed),
      phase: (uid, phase, seconds) => metrics.podStart.phase(uid, phase, seconds),
      log: log.child({ component: 'pods' }),
    });
    const pods = new Informer<Pod>(client, { resource: 'pods' }, { fieldSelector: `spec.nodeName=${nodeName}`, log });
    const podManager = new PodManager(pods, { client, log });
    // a static pod's status goes to its mirror pod, once there is one
    const statusManager = new StatusManager(client, log.child({ component: 'status' }), (e) => podManager.statusUid(e));
    const workers = new PodWorkers({ syncer, status: statusManager, startup: metrics.podStart, log: log.child({ component: 'pods' }) });
    requests.servedBy(workers);
    const podSink: PodSink = {
      update: (p) => workers.update(p),
      remove: (uid, p) => workers.remove(uid, p),
      mirrorSeen: (uid) => {
        statusManager.resend(uid);
        workers.resync(uid);
      },
    };
    podManager.feed(podSink);

    // no image filesystem reported: images live on the agent's own
    const imagefs = (await cri.imageFsInfo().catch(() => []))[0]?.fsId?.mountpoint || rootDir;
    const nodeStats = () => readNodeStats({ nodefs: rootDir, imagefs }, cgroups.version);
    const containerNames = async () =>
      new Map((await cri.listContainers({ labelSelector: { [MANAGED_BY]: nodeName } })).map((ct) => [ct.id, ct.metadata?.name ?? '']));
    const eviction = await startNodePressure(
      {
        config,
        cri,
        nodeName,
        rootDir,
        imagefs,
        workers,
        pods,
        reporter,
        events,
        podEvent,
        nodeStats,
        podStats,
        containerNames,
        evicted: (evictionSignal) => metrics.evicted(evictionSignal),
        log,
      },
      signal,
    );

    for (const informer of [services, runtimeClasses, pods] as Informer<object>[]) void informer.run(signal);
    void statusManager.run(signal);
    watchPodSources(client, pods, (uid) => requests.resync(uid), log, signal);
    if (this.#o.proxy) {
      void new ServiceProxy(client, services, { ...this.#o.proxy, nodeName, synced: (seconds, at) => metrics.proxySynced(seconds, at) }, log).run(signal);
      void new NetworkPolicyEnforcer(client, { table: policyTable(this.#o.proxy.table), nodeName }, log).run(signal);
    }
    if (this.#o.nodeRoutes !== 'none') await this.#routeToOtherNodes({ hostIP, podCidr });
    await pods.hasSynced();
    void eviction.run(signal);

    if (config.staticPodPath) {
      const nodeRef = { name: nodeName, uid: node.metadata?.uid ?? '' };
      await podManager.runStatic({ dir: config.staticPodPath, node: nodeRef, sink: podSink, everyMs: config.fileCheckFrequencyMs, signal });
      void every(
        MIRROR_SYNC_MS,
        signal,
        async () => podManager.syncMirrors(),
        (err) => log.warn({ err: err.message }, 'mirror pod sync failed'),
      );
    }

    // pods the runtime holds for this node but neither the API server nor the manifests know: stop and remove them
    const first = await relister.relist();
    const known = new Set(podManager.desired().map((p) => p.metadata?.uid));
    for (const uid of first.present) if (!known.has(uid)) workers.remove(uid);
    runHousekeeping({ cri, relister, workers, podManager, syncer, reporter, cni, csiVolumes, podsDir, log }, signal);

    this.#servers.push(await this.#serveKubeletApi({ hostIP, podManager, workers, syncer, csiVolumes, podStats, nodeStats, containerNames, relister }));
    log.info({ node: nodeName, port: config.port, podCidr }, 'agent started');
  }

  /** Registers the Node (its status judged from the runtime's and network's health) and keeps it alive: its Lease and its status, each on its period. */
  async #registerNode(runtime: { runtimeName: string; runtimeVersion: string }, hostIP: string) {
    const { config, log, nodeName } = this.#o;
    const client = this.#client;
    const cri = this.#cri;
    const reporter = new NodeStatusReporter({
      client,
      machine: await readMachineInfo(this.#o.rootDir),
      inputs: {
        nodeName,
        address: hostIP,
        port: config.port,
        podCIDR: config.podCIDR,
        maxPods: config.maxPods,
        runtimeVersion: `${runtime.runtimeName}://${runtime.runtimeVersion}`,
        systemReserved: config.systemReserved,
        kubeReserved: config.kubeReserved,
        evictionHard: config.evictionHard,
      },
      health: runtimeHealth({ status: () => cri.status(), loadNetwork: () => loadNetwork(this.#o.cniConfDir) }),
      log,
      reportFrequencyMs: config.nodeStatusReportFrequencyMs,
    });
    const node = await reporter.register();
    const lease = new NodeLease(client, nodeName, config.nodeLeaseDurationSeconds, log);
    lease.setOwner(node.metadata?.uid);
    const signal = this.#stop.signal;
    void every(
      LEASE_RENEW_MS,
      signal,
      () => lease.renew(),
      (err) => log.warn({ err: err.message }, 'lease renewal failed'),
    );
    void every(
      config.nodeStatusUpdateFrequencyMs,
      signal,
      () => reporter.sync(),
      (err) => log.warn({ err: err.message }, 'node status update failed'),
    );
    return { reporter, node };
  }

  /** The kubelet API: pods, logs, exec and the rest of the streaming endpoints, stats, authenticated and authorized. */
  async #serveKubeletApi(d: {
    hostIP: string;
    podManager: PodManager;
    workers: PodWorkers;
    syncer: PodSyncer;
    csiVolumes: CsiVolumes;
    podStats: PodStatsSource;
    nodeStats: () => Promise<NodeStats>;
    containerNames: () => Promise<Map<string, string>>;
    relister: Relister;
  }): Promise<Server> {
    const { config, log, nodeName } = this.#o;
    const stats = new StatsSummary({
      nodeName,
      startTime: new Date(),
      ...d.podStats,
      readNodeStats: d.nodeStats,
      pods: () => d.workers.active(),
      containerNames: d.containerNames,
      volumeStats: (pod, dir, time) => d.csiVolumes.volumeStats(pod, dir, time),
    });
    const managed = { [MANAGED_BY]: nodeName };
    const cadvisor = new CadvisorMetrics({
      // names as the relist found them each second: a scrape makes no call to the runtime
      sample: () => sampleContainers({ cgroups: d.podStats.cgroups, pods: d.workers.active(), names: d.relister.containerNames() }),
      writableLayers: async () =>
        new Map((await this.#cri.listContainerStats(managed)).map((s) => [s.attributes?.id ?? '', s.writableLayer?.usedBytes?.value ?? 0])),
      pods: () => d.podManager.desired(),
    });
    void every(
      SAMPLE_PERIOD_MS,
      this.#stop.signal,
      async () => {
        await cadvisor.refresh();
      },
      (err) => log.warn({ err: err.message }, 'reading container stats failed'),
    );
    const serving = config.serverTLSBootstrap ? await this.#servingCertificate(d.hostIP) : undefined;
    const { cert, key, clientCA } = { ...this.#o.servingTls, ...serving?.pair };
    if (!cert || !key) throw new Error('the kubelet API has no serving certificate: set tlsCertFile and tlsPrivateKeyFile, or serverTLSBootstrap');
    const server = await startKubeletServer({
      nodeName,
      address: config.address,
      port: config.port,
      tls: { cert, key, clientCA },
      podByName: (namespace, name) => d.podManager.byName(namespace, name),
      runningPods: () => d.podManager.desired(),
      cri: this.#cri,
      observe: (uid) => d.syncer.observe(uid),
      summary: () => stats.summary(),
      metrics: { registry: this.#metrics.registry, probes: this.#metrics.probes, cadvisor: () => cadvisor.render() },
      auth: new KubeletAuth(this.#client, nodeName, {
        mode: config.authorizationMode,
        allowTtlMs: config.authorizedTtlMs,
        denyTtlMs: config.unauthorizedTtlMs,
      }),
      log,
    });
    serving?.rotate((pair) => server.setSecureContext({ ...pair, ca: this.#o.servingTls.clientCA }));
    return server;
  }

  /**
   * Keeps this node's routes to the other nodes' pods: host-gw routes, or
   * through a VXLAN device whose MAC the Node publishes for the others.
   */
  async #routeToOtherNodes(o: { hostIP: string; podCidr: string }): Promise<void> {
    const { log, nodeName } = this.#o;
    const nodes = new Informer<Node>(this.#client, { resource: 'nodes' }, { log });
    void nodes.run(this.#stop.signal);
    if (this.#o.nodeRoutes === 'host-gw') {
      void new NodeRoutes({ nodes, nodeName, log }).run(this.#stop.signal);
      return;
    }
    if (!o.podCidr) throw new Error('--flannel-backend vxlan needs the node to have a pod CIDR (podCIDR, or the controller manager allocating them)');
    const mac = await ensureVxlanDevice({ nodeIP: o.hostIP, podCIDR: o.podCidr });
    await this.#client.patch({ resource: 'nodes', name: nodeName }, { metadata: { annotations: { [VTEP_MAC_ANNOTATION]: mac } } }, 'merge');
    void new NodeRoutes({ nodes, nodeName, table: vxlanTable(), desired: vxlanRoutes, log }).run(this.#stop.signal);
  }

  /** The client certificate is renewed through the API, as this node, before it expires; the client swaps to it at once. */
  #rotateClientCertificate(): void {
    const { log, nodeName } = this.#o;
    void new CertificateManager({
      store: new CertificateStore(this.#o.certDir, 'kubelet-client'),
      request: (signal) => requestCertificate(this.#client, clientCertificateAsk(nodeName), signal),
      rotated: (pair) => this.#client.useClientCertificate(pair),
      log: log.child({ component: 'certificates' }),
    }).run(this.#stop.signal);
  }

  /**
   * The kubelet API's serving certificate from the cluster (kubelet-serving,
   * naming this node and its address): the one kept from before while it is
   * valid, a new one otherwise; `rotate` then keeps it renewed.
   */
  async #servingCertificate(hostIP: string) {
    const { log, nodeName } = this.#o;
    const store = new CertificateStore(this.#o.certDir, 'kubelet-server');
    const request = (signal: AbortSignal) => requestCertificate(this.#client, servingCertificateAsk(nodeName, [hostIP]), signal);
    let pair = await store.current();
    if (!pair || (await certificateValidity(pair.cert)).notAfter.getTime() <= Date.now()) {
      log.info('requesting a serving certificate for the kubelet API');
      pair = await request(this.#stop.signal);
      await store.save(pair);
    }
    const rotate = (rotated: (pair: KeyPair) => void) =>
      void new CertificateManager({ store, request, rotated, log: log.child({ component: 'certificates' }) }).run(this.#stop.signal);
    return { pair, rotate };
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.#client.close();
    this.#cri.close();
  }
}
