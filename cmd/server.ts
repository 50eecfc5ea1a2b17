import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { CONFIG_FILE_ENV, withConfigFile } from './config-file.ts';
import { AGENT_OPTIONS, SERVER_OPTIONS } from './options.ts';
import {
  DEFAULT_LEADER_ELECTION,
  EventRecorder,
  type KeyPair,
  LeaderElector,
  RestClient,
  WorkQueueMetrics,
  hostIPv4,
  leaderStatusMetric,
  processRegistry,
  intToIpv4,
  ipv4ToInt,
  parseDuration,
  loadKubeconfig,
  writeKubeconfig,
  createRootLogger,
  notifyReady,
  type Logger,
  pathExists,
  waitAtMost,
} from '../apimachinery/index.ts';
import { ENCRYPTION_CONFIG_FILE } from './control-plane-certs.ts';
import {
  DEFAULT_SNAPSHOT_NAME,
  checkSnapshotCron,
  defaultSnapshotDir,
  restoreSqliteSnapshot,
  runSnapshotSchedule,
} from '../control-plane/storage/snapshots/index.ts';
import {
  ApiServer,
  CidrSet,
  Compactor,
  ClusterDns,
  ControllerManager,
  MeasuredStorage,
  profilesFromConfig,
  publishDnsService,
  Scheduler,
  SchedulerMetrics,
  ServiceAccountTokens,
  sqlitePath,
  StaticTokenFile,
  EncryptingStorage,
  AuditLogWriter,
  AuditWebhookBackend,
  Auditor,
  type AuditSink,
  ensureClusterPki,
  loadAuditPolicy,
  loadEncryptionConfig,
  secretsEncryptionConfig,
  openStorage,
  issueFromClusterCa,
  loadPodSecurityConfig,
  podSecurityDefaultsFile,
  type Storage,
} from '../control-plane/index.ts';

const SERVER_USAGE = `skiff server: the API server, storage, scheduler and controllers

  --secure-port N                 HTTPS port (6443)
  --bind-address ADDR             address to listen on (0.0.0.0)
  --advertise-address ADDR        address published to clients (first non-loopback IPv4)
  --datastore-endpoint URL        sqlite:///var/lib/skiff/server/state.db, or etcd://host:port[,host:port…]
  --etcd-compaction-interval D    how much history the store keeps for watches and continue tokens (5m; 0 keeps all)
  --snapshot-cron EXPR            when to snapshot the store, a cron expression ("0 */12 * * *")
  --snapshot-retention N          scheduled snapshots kept (5)
  --snapshot-dir DIR              where snapshots go (beside a SQLite store: its directory's snapshots/); skiff snapshot save|list|delete
  --disable-snapshots             no scheduled snapshots
  --cluster-reset                 with --cluster-reset-restore-path FILE: put a SQLite snapshot in place of the store
                                  (the server stopped), then exit; start the server again without these flags
  --service-cluster-ip-range CIDR Service ClusterIP range (10.96.0.0/12)
  --pki-dir DIR                   cluster certificates, made on first start (/etc/skiff/pki)
  --write-kubeconfig PATH         write an admin kubeconfig there (/etc/skiff/admin.kubeconfig)
  --token-auth-file PATH          static bearer tokens: CSV token,user,uid,"group1,group2"
  --encryption-provider-config PATH  EncryptionConfiguration: which resources are encrypted at rest, with which keys
  --no-secrets-encryption         store Secrets unencrypted (by default they are encrypted with an aescbc key made on
                                  first start, kept with the cluster's keys as encryption-config.yaml)
  --admission-control-config-file PATH  AdmissionConfiguration: PodSecurity's defaults and exemptions
  --audit-policy-file PATH        audit Policy (audit.k8s.io/v1): which requests are logged, at which level
  --audit-log-path PATH           where audit events go, one JSON line each ('-': stdout); with a policy, auditing is on
  --audit-log-maxage DAYS         days an old audit log is kept (0: forever)
  --audit-log-maxbackup N         old audit logs kept (0: all)
  --audit-log-maxsize MB          size at which the audit log is rotated (0: never)
  --audit-webhook-config-file PATH  kubeconfig of a webhook the audit events are POSTed to as EventLists (with a policy,
                                  auditing is on; beside the log or instead of it)
  --audit-webhook-mode MODE       batch (the only mode: requests never wait for the webhook)
  --audit-webhook-batch-max-size N  events per request (400)
  --audit-webhook-batch-max-wait D  how long a batch waits to fill (30s)
  --audit-webhook-batch-buffer-size N  events held for the webhook before new ones are dropped (10000)
  --audit-webhook-initial-backoff D  first wait before a refused batch is sent again (10s; 5 tries in all)
  --pod-security-default LEVEL    enforce, audit and warn LEVEL (privileged, baseline, restricted) where a namespace
                                  says nothing: writes an AdmissionConfiguration beside the PKI directory and reads it
  --service-account-issuer URL    iss of service account tokens (https://kubernetes.default.svc.cluster.local)
  --api-audiences LIST            audiences tokens must name (the issuer)
  --no-anonymous-auth             refuse every request without credentials (401); by default one is taken as
                                  system:anonymous (RBAC deciding) on /healthz, /livez, /readyz, /version, the
                                  cluster-info ConfigMap and issuer discovery only, refused (401) everywhere else
  --disable-scheduler             do not run the scheduler
  --scheduler-config PATH         KubeSchedulerConfiguration YAML: profiles by schedulerName (default-scheduler only)
  --disable-controllers           do not run the controllers (workloads, garbage collector, namespaces, nodes)
  --cluster-domain DOMAIN         the cluster's DNS domain (cluster.local)
  --cluster-dns-ip ADDR           the kube-dns Service's ClusterIP (the tenth address of the service range)
  --cluster-dns-address ADDR      where pods reach the DNS add-on (the advertise address)
  --cluster-dns-bind-address ADDR where the DNS add-on listens (the cluster DNS address)
  --cluster-dns-port N            its UDP and TCP port (53)
  --no-cluster-dns                do not run the DNS add-on
  --no-leader-elect               act as scheduler and controller manager without taking their Leases
  --cluster-cidr CIDR             the pod network nodes get their pod CIDRs from (10.244.0.0/16)
  --node-cidr-mask-size N         prefix length of each node's pod CIDR (24)
  --no-allocate-node-cidrs        leave spec.podCIDR to whoever registers the node
  --node-monitor-grace-period D   how long a node may go silent before it is NotReady (40s)
  --node-monitor-period D         how often node heartbeats are checked (5s)
  --horizontal-pod-autoscaler-sync-period D  how often each HorizontalPodAutoscaler is looked at (15s)
  --cluster-signing-duration D    the longest certificate the CSR signer issues (8760h; a request may ask for less)
  --node-eviction-rate R          nodes per second tainted for eviction in a healthy zone (0.1)
  --secondary-node-eviction-rate R  the same in a partly disrupted zone larger than the threshold below (0.01)
  --unhealthy-zone-threshold F    share of not-ready nodes (at least 3) that makes a zone partly disrupted (0.55)
  --large-cluster-size-threshold N  zones of at most N nodes stop evicting when partly disrupted (50)
  --log-level LEVEL               pino level (info)
`;

/**
 * PodSecurity's configuration: from --admission-control-config-file, or the
 * file --pod-security-default writes for the operator (privileged everywhere
 * when neither is given, as in Kubernetes).
 */
async function podSecurityOf(values: { 'admission-control-config-file'?: string; 'pod-security-default'?: string; 'pki-dir'?: string }) {
  let path = values['admission-control-config-file'];
  const level = values['pod-security-default'];
  if (level) {
    if (path) throw new Error('--pod-security-default writes an admission configuration of its own: give it or --admission-control-config-file, not both');
    path = join(dirname(values['pki-dir'] as string), 'admission-config.yaml');
    await writeFile(path, podSecurityDefaultsFile(level), { mode: 0o600 });
  }
  return path ? loadPodSecurityConfig(path) : undefined;
}

/**
 * The store, sealing what the encryption configuration names: the file
 * --encryption-provider-config gives, else (with --secrets-encryption, the
 * default) the one kept in the PKI directory, made with a new key for Secrets
 * on first start (a joining server takes the cluster's with its keys).
 */
async function encryptedAtRest(
  storage: Storage,
  values: { 'encryption-provider-config'?: string; 'secrets-encryption'?: boolean; 'pki-dir'?: string },
): Promise<Storage> {
  let path = values['encryption-provider-config'];
  if (!path && values['secrets-encryption']) {
    path = join(values['pki-dir'] as string, ENCRYPTION_CONFIG_FILE);
    if (!(await pathExists(path))) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, secretsEncryptionConfig([{ name: 'key1', secret: randomBytes(32).toString('base64') }]), { mode: 0o600, flag: 'wx' });
    }
  }
  return path ? new EncryptingStorage(storage, await loadEncryptionConfig(path)) : storage;
}

/**
 * The auditor --audit-policy-file and its backends ask for: the log
 * (--audit-log-path) and the webhook (--audit-webhook-config-file), either or
 * both, as in kube-apiserver; `flush` sends what the webhook still holds.
 */
async function auditorOf(values: Record<string, unknown>, log: Logger): Promise<{ auditor?: Auditor; flush: () => Promise<void> }> {
  const policyFile = values['audit-policy-file'] as string | undefined;
  const path = values['audit-log-path'] as string | undefined;
  const webhookConfig = values['audit-webhook-config-file'] as string | undefined;
  const none = { flush: async () => {} };
  if (!policyFile || (!path && !webhookConfig)) return none;
  const policy = await loadAuditPolicy(policyFile);
  const sinks: AuditSink[] = [];
  if (path === '-') sinks.push({ write: (e) => process.stdout.write(`${JSON.stringify(e)}\n`) });
  else if (path) {
    const writer = new AuditLogWriter({
      path,
      maxAgeDays: numberFlag(values, 'audit-log-maxage'),
      maxBackups: numberFlag(values, 'audit-log-maxbackup'),
      maxSizeMB: numberFlag(values, 'audit-log-maxsize'),
      log: log.child({ component: 'audit' }),
    });
    await writer.open();
    sinks.push(writer);
  }
  let webhook: AuditWebhookBackend | undefined;
  if (webhookConfig) {
    if (values['audit-webhook-mode'] !== 'batch')
      throw new Error(`--audit-webhook-mode ${values['audit-webhook-mode']}: only batch is supported (requests never wait for the webhook)`);
    webhook = new AuditWebhookBackend({
      target: await loadKubeconfig(webhookConfig),
      batchMaxSize: Math.max(1, numberFlag(values, 'audit-webhook-batch-max-size')),
      batchMaxWaitMs: parseDuration(values['audit-webhook-batch-max-wait'] as string),
      bufferSize: Math.max(1, numberFlag(values, 'audit-webhook-batch-buffer-size')),
      initialBackoffMs: parseDuration(values['audit-webhook-initial-backoff'] as string),
      log: log.child({ component: 'audit-webhook' }),
    });
    sinks.push(webhook);
  }
  const [only] = sinks;
  const sink: AuditSink = sinks.length === 1 && only ? only : { write: (e) => sinks.forEach((s) => s.write(e)) };
  return { auditor: new Auditor(policy, sink), flush: async () => webhook?.close() };
}

/** The n-th address of the service range (1: the kubernetes Service, 10: kube-dns). */
function serviceAddress(cidr: string, n: number): string {
  return intToIpv4(ipv4ToInt(cidr.split('/')[0] ?? '') + n);
}

/** A flag that must be a number of zero or more. */
function numberFlag(values: Record<string, unknown>, name: string): number {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`invalid --${name} ${String(values[name])}: want a number of zero or more`);
  return n;
}

/**
 * --cluster-reset: a SQLite snapshot put in place of the store, ready for
 * the server to start on (its clients list again); etcd members are restored
 * with etcd's own tool.
 */
async function resetFromSnapshot(values: Record<string, unknown>, log: Logger): Promise<void> {
  const endpoint = values['datastore-endpoint'] as string;
  const snapshot = values['cluster-reset-restore-path'] as string | undefined;
  const path = sqlitePath(endpoint);
  if (!path) {
    throw new Error(
      '--cluster-reset restores SQLite stores; restore an etcd snapshot with `etcdutl snapshot restore` on each member (with --bump-revision and --mark-compacted), then start the servers',
    );
  }
  if (!snapshot) throw new Error('--cluster-reset needs --cluster-reset-restore-path FILE (skiff snapshot list shows them)');
  const { revision } = await restoreSqliteSnapshot({ snapshot, path });
  log.info({ snapshot, revision }, 'store restored from the snapshot');
  process.stdout.write(`Restored ${snapshot}; start the server again without --cluster-reset.\n`);
}

export async function runServer(argv: string[]): Promise<void> {
  const { args, unknown } = withConfigFile(argv, SERVER_OPTIONS, AGENT_OPTIONS);
  const { values } = parseArgs({ args, allowNegative: true, options: SERVER_OPTIONS });
  if (values.help) {
    process.stdout.write(SERVER_USAGE);
    return;
  }
  const log = createRootLogger({ name: 'skiff-server', level: values['log-level'] });
  for (const key of unknown) log.warn({ key, file: process.env[CONFIG_FILE_ENV] }, 'config file: no skiff command takes this flag; ignored');
  if (values['cluster-reset']) return resetFromSnapshot(values, log);
  const nodeIpam = values['allocate-node-cidrs']
    ? { clusterCidr: values['cluster-cidr'] as string, nodeMaskSize: Number(values['node-cidr-mask-size']) }
    : undefined;
  // a bad --cluster-cidr fails here, before anything is served
  if (nodeIpam) new CidrSet(nodeIpam.clusterCidr, nodeIpam.nodeMaskSize);
  const profiles = values['scheduler-config'] ? profilesFromConfig(await readFile(values['scheduler-config'], 'utf8')) : undefined;
  const nodeLifecycle = {
    gracePeriodMs: parseDuration(values['node-monitor-grace-period'] as string),
    monitorPeriodMs: parseDuration(values['node-monitor-period'] as string),
    disruption: {
      nodeEvictionRate: numberFlag(values, 'node-eviction-rate'),
      secondaryNodeEvictionRate: numberFlag(values, 'secondary-node-eviction-rate'),
      unhealthyZoneThreshold: numberFlag(values, 'unhealthy-zone-threshold'),
      largeClusterSizeThreshold: numberFlag(values, 'large-cluster-size-threshold'),
    },
  };
  const compactionMs = parseDuration(values['etcd-compaction-interval'] as string);
  const port = Number(values['secure-port']);
  const advertise = hostIPv4(values['advertise-address']);
  const serviceCidr = values['service-cluster-ip-range'] as string;
  const firstServiceIp = serviceAddress(serviceCidr, 1);
  const pki = await ensureClusterPki(values['pki-dir'] as string, {
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ipAddresses: [...new Set(['127.0.0.1', advertise, firstServiceIp])],
  });
  const snapshots = values['disable-snapshots']
    ? undefined
    : {
        endpoint: values['datastore-endpoint'] as string,
        dir: values['snapshot-dir'] ?? defaultSnapshotDir(values['datastore-endpoint'] as string),
        name: DEFAULT_SNAPSHOT_NAME,
        cron: values['snapshot-cron'] as string,
        retention: numberFlag(values, 'snapshot-retention'),
        log: log.child({ component: 'snapshots' }),
      };
  if (snapshots) checkSnapshotCron(snapshots.cron);
  // one registry for the process: the API server's series, the store's, the scheduler's, the controllers' queues, the Leases led
  const metrics = processRegistry();
  const storage = await encryptedAtRest(new MeasuredStorage(await openStorage(values['datastore-endpoint'] as string), metrics), values);
  const serviceAccountTokens = await ServiceAccountTokens.load(values['pki-dir'] as string, values['service-account-issuer']);
  const audit = await auditorOf(values, log);
  const server = new ApiServer({
    storage,
    metrics,
    tls: { cert: pki.apiserver.cert, key: pki.apiserver.key, clientCA: pki.ca.cert },
    kubeletClient: { ca: pki.ca.cert, ...pki.kubeletClient },
    bindAddress: values['bind-address'] as string,
    port,
    advertiseAddress: advertise,
    serviceCidr,
    serviceAccountTokens,
    apiAudiences: values['api-audiences']
      ?.split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    anonymousAuth: values['anonymous-auth'] as boolean,
    tokenAuthenticators: values['token-auth-file'] ? [await StaticTokenFile.load(values['token-auth-file'])] : [],
    podSecurity: await podSecurityOf(values),
    auditor: audit.auditor,
    frontProxy: { ca: pki.frontProxyCa.cert, client: pki.frontProxyClient },
    log: log.child({ component: 'apiserver' }),
  });
  await server.start();
  const local = `https://127.0.0.1:${server.port}`;
  if (values['write-kubeconfig']) {
    const admin = await issueFromClusterCa(values['pki-dir'] as string, { commonName: 'skiff-admin', organizations: ['system:masters'], usage: 'client' });
    await writeKubeconfig(values['write-kubeconfig'], { server: local, ca: admin.ca, cert: admin.pair.cert, key: admin.pair.key }, { user: 'admin' });
  }
  const stop = new AbortController();
  if (snapshots) void runSnapshotSchedule(snapshots, stop.signal);
  if (compactionMs > 0) new Compactor(storage, log.child({ component: 'compactor' })).start(compactionMs, stop.signal);
  const identity = `${hostname()}_${randomUUID()}`;
  log.info({ identity }, 'leader election identity');
  // scheduler and controllers act only while this server holds their Lease; each term starts them afresh
  const leading: Promise<void>[] = [];
  const leaderStatus = leaderStatusMetric(metrics);
  const elect = (name: string, as: { userAgent: string; pair: KeyPair }, lead: (client: RestClient, signal: AbortSignal) => Promise<void>) => {
    const client = new RestClient({ server: local, ca: pki.ca.cert, ...as.pair }, { userAgent: as.userAgent });
    const run = (signal: AbortSignal) => lead(client, signal);
    leading.push(
      values['leader-elect']
        ? new LeaderElector(client, { name, identity, ...DEFAULT_LEADER_ELECTION, leading: leaderStatus(name) }, log).run(stop.signal, run)
        : run(stop.signal),
    );
  };
  const schedulerMetrics = new SchedulerMetrics(metrics);
  const queueMetrics = new WorkQueueMetrics(metrics);
  if (!values['disable-scheduler']) {
    elect('kube-scheduler', { userAgent: 'skiff-scheduler', pair: pki.scheduler }, (client, signal) =>
      new Scheduler({
        client,
        events: new EventRecorder(client, { component: 'default-scheduler' }, log),
        log,
        profiles,
        metrics: schedulerMetrics,
      }).run(signal),
    );
  }
  if (!values['disable-controllers']) {
    elect('kube-controller-manager', { userAgent: 'skiff-controller-manager', pair: pki.controllerManager }, (client, signal) =>
      new ControllerManager(client, pki.ca, log, {
        nodeLifecycle,
        nodeIpam,
        signingDurationSeconds: parseDuration(values['cluster-signing-duration'] as string) / 1000,
        legacyTokens: (c) => serviceAccountTokens.issueLegacy(c),
        queueMetrics,
        hpaSyncPeriodMs: parseDuration(values['horizontal-pod-autoscaler-sync-period'] as string),
      }).run(signal),
    );
  }
  if (values['cluster-dns']) {
    const client = new RestClient({ server: local, ca: pki.ca.cert, ...pki.clusterDns }, { userAgent: 'skiff-dns' });
    const address = values['cluster-dns-address'] ?? advertise;
    const port = Number(values['cluster-dns-port']);
    await new ClusterDns(client, { zone: values['cluster-domain'] as string }, log).start(values['cluster-dns-bind-address'] ?? address, port, stop.signal);
    await publishDnsService(client, { clusterIP: values['cluster-dns-ip'] ?? serviceAddress(serviceCidr, 10), address, port });
  }
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    stop.abort();
    // let the electors hand their Leases over before the API goes away
    await waitAtMost(3000, Promise.allSettled(leading));
    await server.close();
    await audit.flush();
    await storage.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await notifyReady(`serving on ${local}`);
}
