import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:net';
import type { PersistentVolume, PersistentVolumeClaim, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { EventRecorder, Informer, RestClient, hostIPv4, isPodTerminal, rfc3339, type ClientConfig, type Logger } from '../apimachinery/index.ts';
import { CniRunner, loadNetwork, serveCniDelegate } from './cni/index.ts';
import type { AgentConfig } from './config.ts';
import { CriClient, DEFAULT_SANDBOX_IMAGE } from './cri/index.ts';
import { EVICTED, EvictionManager, parseThresholds, type PressureCondition, type Signal } from './eviction/index.ts';
import { ImageGC, removeFinishedPodsContainers } from './gc/index.ts';
import { NodeLease, NodeStatusReporter, PRESSURE_CONDITIONS, readMachineInfo, runtimeHealth } from './node/index.ts';
import { MANAGED_BY, PodManager, PodSyncer, PodWorkers, Relister, StatusManager, parseResolvConf, podLogDirectory, type PodSink } from './pods/index.ts';
import { PodCgroups, StatsSummary, podUsage, readNodeStats, type NodeStats, type PodStatsSource, type PodUsage } from './stats/index.ts';
import { Prober } from './probes/index.ts';
import { ServiceProxy } from './proxy/index.ts';
import { ServiceAccountTokenCache, apiObjects, watchPodSources } from './volumes/index.ts';
import { CsiVolumes, NodeProvisioner, NodeResizer, PluginRegistry, syncCsiNode } from './storage/index.ts';
import { KubeletAuth, startKubeletServer } from './server/index.ts';
import { every } from './every.ts';
import { runHousekeeping } from './housekeeping.ts';

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
    const cni = new CniRunner({
      confDir: this.#o.cniConfDir,
      binDirs: this.#o.cniBinDirs,
      cacheDir: join(this.#o.rootDir, 'cni-results'),
      podCidr: () => podCidr || undefined,
    });
    this.#servers.push(await serveCniDelegate(this.#o.cniDelegateSocket, cni, log.child({ component: 'cni' })));

    const health = runtimeHealth({
      status: () => this.#cri.status(),
      loadNetwork: () => loadNetwork(this.#o.cniConfDir),
      pressure: () => eviction?.conditions ?? new Set(),
    });
    let eviction: EvictionManager | undefined;
    const machine = await readMachineInfo(this.#o.rootDir);
    const reporter = new NodeStatusReporter({
      client: this.#client,
      machine,
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
      health,
      log,
      reportFrequencyMs: config.nodeStatusReportFrequencyMs,
    });
    const node = await reporter.register();
    podCidr = node.spec?.podCIDR ?? podCidr;
    const lease = new NodeLease(this.#client, nodeName, config.nodeLeaseDurationSeconds, log);
    lease.setOwner(node.metadata?.uid);

    const events = new EventRecorder(this.#client, { component: 'kubelet', host: nodeName }, log);
    // the Services every container's service-link variables come from (and the proxy's)
    const services = new Informer<Service>(this.#client, { resource: 'services' }, { log });
    void services.run(this.#stop.signal);
    const hostDns = parseResolvConf(await readFile(config.resolvConf, 'utf8').catch(() => ''));
    const podEvent = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) =>
      events.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message, fieldPath);
    let workers: PodWorkers | undefined;
    const prober = new Prober({
      execSync: (id, cmd, timeout) => this.#cri.execSync(id, cmd, timeout),
      changed: (uid) => workers?.resync(uid),
      // the kill runs in the pod's own worker, between its syncs
      kill: (pod, id, container, message) =>
        workers?.act(pod.metadata?.uid ?? '', async () => {
          podEvent(pod, 'Normal', 'Killing', message, `spec.containers{${container.name}}`);
          await this.#cri.stopContainer(id, pod.spec?.terminationGracePeriodSeconds ?? 30);
        }),
      event: podEvent,
      log: log.child({ component: 'prober' }),
    });
    const cgroups = await PodCgroups.detect(config.cgroupRoot, { driver: config.cgroupDriver });
    const podsDir = join(this.#o.rootDir, 'pods');
    const podStats: PodStatsSource = { cgroups, podsDir, logDir: (pod) => podLogDirectory(pod, config.podLogsDir) };
    const tokens = new ServiceAccountTokenCache(this.#client, (uid) => workers?.resync(uid));
    const objects = {
      ...apiObjects(this.#client),
      serviceAccountToken: (pod: Pod, audience: string | undefined, seconds: number) => tokens.get(pod, audience, seconds),
    };
    const csiLog = log.child({ component: 'csi' });
    const plugins = new PluginRegistry(join(this.#o.rootDir, 'plugins_registry'), csiLog);
    // the storage sidecars for drivers registered here: provisioning, deletion and expansion of volumes on this node
    const claims = new Informer<PersistentVolumeClaim>(this.#client, { resource: 'persistentvolumeclaims' }, { log });
    const volumes = new Informer<PersistentVolume>(this.#client, { resource: 'persistentvolumes' }, { log });
    const classes = new Informer<StorageClass>(this.#client, { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, { log });
    const storageEvents = new EventRecorder(this.#client, { component: `csi-sidecars/${nodeName}`, host: nodeName }, log);
    const provisioner = new NodeProvisioner({ client: this.#client, nodeName, plugins, events: storageEvents, log: csiLog, claims, volumes, classes });
    const resizer = new NodeResizer({ client: this.#client, plugins, events: storageEvents, log: csiLog, rootDir: this.#o.rootDir, claims, volumes });
    const csiVolumes = new CsiVolumes({
      plugins,
      claims: objects,
      rootDir: this.#o.rootDir,
      podsDir,
      log: csiLog,
      afterStage: (claim, pv) => resizer.expandOnNode(claim, pv),
    });
    // pods the runtime holds for this node whose state changed since they were last synced are synced again
    const relister = new Relister(this.#cri, nodeName);
    const syncer = new PodSyncer({
      cri: this.#cri,
      env: {
        nodeName,
        hostIP,
        clusterDNS: config.clusterDNS,
        clusterDomain: config.clusterDomain,
        hostDns,
        podLogsDir: config.podLogsDir,
        services: () => services.store.values(),
      },
      runtimeName: runtime.runtimeName,
      podsDir,
      events: (pod) => (type, reason, message, fieldPath) => podEvent(pod, type, reason, message, fieldPath),
      prober,
      objects,
      claims: csiVolumes,
      cgroups,
      settled: (uid, observed) => relister.note(uid, observed),
      log: log.child({ component: 'pods' }),
    });
    const pods = new Informer<Pod>(this.#client, { resource: 'pods' }, { fieldSelector: `spec.nodeName=${nodeName}`, log });
    const podManager = new PodManager(pods, { client: this.#client, log });
    // a static pod's status goes to its mirror pod, once there is one
    const statusManager = new StatusManager(this.#client, log.child({ component: 'status' }), (e) => podManager.statusUid(e));
    workers = new PodWorkers({
      syncer,
      status: statusManager,
      log: log.child({ component: 'pods' }),
      admit: (pod) => {
        const verdict = eviction?.admit(pod) ?? { admit: true };
        if (!verdict.admit) podEvent(pod, 'Warning', verdict.reason, verdict.message);
        return verdict;
      },
    });
    const podSink: PodSink = {
      update: (p) => workers.update(p),
      remove: (uid, p) => workers.remove(uid, p),
      mirrorSeen: (uid) => {
        statusManager.forget(uid);
        workers.resync(uid);
      },
    };
    podManager.feed(podSink);

    const imagefs = (await this.#cri.imageFsInfo().catch(() => []))[0]?.fsId?.mountpoint || this.#o.rootDir;
    const nodeStats = () => readNodeStats({ nodefs: this.#o.rootDir, imagefs }, cgroups.version);
    const containerNames = async () =>
      new Map((await this.#cri.listContainers({ labelSelector: { [MANAGED_BY]: nodeName } })).map((ct) => [ct.id, ct.metadata?.name ?? '']));
    eviction = await this.#evictionManager({ cgroups, workers, pods, reporter, events, podEvent, imagefs, nodeStats, podStats, containerNames });

    void pods.run(signal);
    void statusManager.run(signal);
    this.#runCsiNode(plugins, signal);
    await plugins.run(signal);
    for (const i of [claims, volumes, classes] as Informer<object>[]) void i.run(signal);
    void provisioner.run(signal);
    void resizer.run(signal);
    watchPodSources(this.#client, pods, (uid) => workers?.resync(uid), log, signal);
    if (this.#o.proxy) void new ServiceProxy(this.#client, services, { ...this.#o.proxy, nodeName }, log).run(signal);
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
    await pods.hasSynced();
    void eviction.run(signal);

    if (config.staticPodPath) {
      const nodeRef = { name: nodeName, uid: node.metadata?.uid ?? '' };
      await podManager.runStatic({ dir: config.staticPodPath, node: nodeRef, sink: podSink, everyMs: config.fileCheckFrequencyMs, signal });
      void every(
        MIRROR_SYNC_MS,
        signal,
        async () => podManager.syncMirrors(),
        () => undefined,
      );
    }

    // pods the runtime holds for this node but neither the API server nor the manifests know: stop and remove them
    const first = await relister.relist();
    const known = new Set(podManager.desired().map((p) => p.metadata?.uid));
    for (const uid of first.present) if (!known.has(uid)) workers.remove(uid);
    runHousekeeping({ cri: this.#cri, relister, workers, podManager, syncer, reporter, cni, csiVolumes, podsDir, log }, signal);

    const stats = new StatsSummary({
      nodeName,
      startTime: new Date(),
      ...podStats,
      readNodeStats: nodeStats,
      pods: () => workers.active(),
      containerNames,
      volumeStats: (pod, dir, time) => csiVolumes.volumeStats(pod, dir, time),
    });
    this.#servers.push(
      await startKubeletServer({
        nodeName,
        address: config.address,
        port: config.port,
        tls: this.#o.servingTls,
        podByName: (namespace, name) => podManager.byName(namespace, name),
        runningPods: () => podManager.desired(),
        cri: this.#cri,
        observe: (uid) => syncer.observe(uid),
        summary: () => stats.summary(),
        auth: new KubeletAuth(this.#client, nodeName, {
          mode: config.authorizationMode,
          allowTtlMs: config.authorizedTtlMs,
          denyTtlMs: config.unauthorizedTtlMs,
        }),
        log,
      }),
    );
    log.info({ node: nodeName, port: config.port, podCidr }, 'agent started');
  }

  /** Keeps the CSINode object (and the Node's CSI annotation and topology labels) in step with the registered plugins, retrying until it lands. */
  #runCsiNode(plugins: PluginRegistry, signal: AbortSignal): void {
    const { log, nodeName } = this.#o;
    let pending = true;
    plugins.onChange(() => {
      pending = true;
    });
    void every(
      1000,
      signal,
      async () => {
        if (!pending) return;
        pending = false;
        try {
          await syncCsiNode(this.#client, nodeName, plugins.all().values(), log.child({ component: 'csi' }));
        } catch (err) {
          pending = true;
          throw err;
        }
      },
      (err) => log.warn({ err: err.message }, 'CSINode update failed'),
    );
  }

  /** Eviction under node pressure, with dead containers and unused images reclaimed first; image GC on its own period. */
  async #evictionManager(c: {
    cgroups: PodCgroups;
    workers: PodWorkers;
    pods: Informer<Pod>;
    reporter: NodeStatusReporter;
    events: EventRecorder;
    podEvent: (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => void;
    imagefs: string;
    nodeStats: () => Promise<NodeStats>;
    podStats: PodStatsSource;
    containerNames: () => Promise<Map<string, string>>;
  }): Promise<EvictionManager> {
    const { config, log, nodeName, rootDir } = this.#o;
    const signal = this.#stop.signal;
    const nodeRef = { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, uid: nodeName } };
    const nodeEvent = (type: 'Normal' | 'Warning', reason: string, message: string) => c.events.event(nodeRef, type, reason, message);
    const dedicatedImageFs = (await stat(c.imagefs)).dev !== (await stat(rootDir)).dev;
    const imageGC = new ImageGC({
      cri: this.#cri,
      policy: {
        highThresholdPercent: config.imageGCHighThresholdPercent,
        lowThresholdPercent: config.imageGCLowThresholdPercent,
        minAgeMs: config.imageMinimumGCAgeMs,
        maxAgeMs: config.imageMaximumGCAgeMs,
      },
      protectedImages: [DEFAULT_SANDBOX_IMAGE],
      log: log.child({ component: 'image-gc' }),
      nodeEvent,
    });
    void imageGC.run(signal);
    const containers = async () => {
      const pods = new Map(c.pods.list().map((p) => [p.metadata?.uid ?? '', p]));
      const finished = (uid: string) => {
        const pod = pods.get(uid);
        return !pod || isPodTerminal(pod);
      };
      await removeFinishedPodsContainers(this.#cri, { nodeName, finished, log });
    };
    const images = () => imageGC.deleteUnusedImages().then(() => undefined);
    // with a filesystem of their own, images are reclaimed for imagefs only
    const diskReclaim = { nodefs: dedicatedImageFs ? [] : [containers, images], imagefs: [containers, images] };
    const reclaim: Partial<Record<Signal, Array<() => Promise<void>>>> = {
      'nodefs.available': diskReclaim.nodefs,
      'nodefs.inodesFree': diskReclaim.nodefs,
      'imagefs.available': diskReclaim.imagefs,
      'imagefs.inodesFree': diskReclaim.imagefs,
    };
    const podUsages = async (pods: Pod[], withDisk: boolean): Promise<Map<string, PodUsage>> => {
      const names = await c.containerNames();
      const out = new Map<string, PodUsage>();
      for (const pod of pods) {
        const usage = await podUsage(c.podStats, pod, names, withDisk);
        if (usage) out.set(pod.metadata?.uid ?? '', usage);
      }
      return out;
    };
    let previous: ReadonlySet<PressureCondition> = new Set();
    return new EvictionManager({
      thresholds: parseThresholds(config),
      pressureTransitionPeriodMs: config.evictionPressureTransitionPeriodMs,
      maxPodGracePeriodSeconds: config.evictionMaxPodGracePeriod,
      readNodeStats: c.nodeStats,
      activePods: () => c.workers.active(),
      podUsages,
      reclaim,
      evict: (pod, e) => {
        c.podEvent(pod, 'Warning', EVICTED, e.message);
        const condition = { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: e.message, lastTransitionTime: rfc3339() };
        return c.workers.end(pod.metadata?.uid ?? '', { reason: EVICTED, message: e.message, graceSeconds: e.graceSeconds, condition });
      },
      conditionsChanged: (active) => {
        for (const [type, info] of Object.entries(PRESSURE_CONDITIONS)) {
          if (active.has(type as PressureCondition) !== previous.has(type as PressureCondition)) {
            const reason = active.has(type as PressureCondition) ? info.events.bad : info.events.ok;
            nodeEvent('Normal', reason, `Node ${nodeName} status is now: ${reason}`);
          }
        }
        previous = active;
        void c.reporter.sync().catch((err: Error) => log.warn({ err: err.message }, 'node status update failed'));
      },
      nodeEvent,
      log: log.child({ component: 'eviction' }),
    });
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.#client.close();
    this.#cri.close();
  }
}
