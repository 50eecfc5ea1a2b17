export { ApiServer, SERVER_VERSION } from './apiserver/server.ts';
export type { ApiServerOptions } from './apiserver/server.ts';
export { EtcdStorage, SqliteStorage, etcdHosts } from './storage/index.ts';
export type { Storage } from './storage/index.ts';
export { Scheduler } from './scheduler/index.ts';
export { ensureClusterPki, issueFromClusterCa } from './cluster-pki.ts';
export type { ClusterPki } from './cluster-pki.ts';
export { ServiceAccountTokens } from './auth/service-account-token.ts';
export { StaticTokenFile } from './auth/token-authenticators.ts';
