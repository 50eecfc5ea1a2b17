export {
  ApiServer,
  AuditLogWriter,
  AuditWebhookBackend,
  Auditor,
  KubernetesEndpoints,
  SERVER_VERSION,
  loadAuditPolicy,
  loadPodSecurityConfig,
  podSecurityDefaultsFile,
  type AuditSink,
} from './apiserver/index.ts';
export type { ApiServerOptions } from './apiserver/index.ts';
export {
  Compactor,
  EncryptingStorage,
  MeasuredStorage,
  SqliteStorage,
  sqlitePath,
  openStorage,
  loadEncryptionConfig,
  secretsEncryptionConfig,
} from './storage/index.ts';
export type { Storage } from './storage/index.ts';
export { Scheduler, SchedulerMetrics, profilesFromConfig } from './scheduler/index.ts';
export { ensureClusterPki, issueFromClusterCa } from './cluster-pki.ts';
export type { ClusterPki } from './cluster-pki.ts';
export { ServiceAccountTokens, StaticTokenFile } from './auth/index.ts';
export { ControllerManager, CidrSet } from './controllers/index.ts';
export { ClusterDns, publishDnsService } from './dns/index.ts';
