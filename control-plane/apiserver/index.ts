// The API server: HTTPS, health, discovery and OpenAPI, the REST handler
// over one Registry per resource, watch streams, custom resources, admission.
export { ApiServer, SERVER_VERSION } from './server.ts';
export type { ApiServerOptions } from './server.ts';
export { Registry } from './registry.ts';
export { KubernetesEndpoints } from './kubernetes-endpoints.ts';
export type { ListOptions, WatchOutput } from './registry.ts';
export { loadPodSecurityConfig, podSecurityDefaultsFile } from './pod-security/index.ts';
export { AuditLogWriter, AuditWebhookBackend, Auditor, loadAuditPolicy, type AuditSink } from './audit/index.ts';
