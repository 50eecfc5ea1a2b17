import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { parseDuration } from '../apimachinery/index.ts';
import { parseThresholds } from './eviction/index.ts';

/**
 * The subset of KubeletConfiguration (kubelet.config.k8s.io/v1beta1) skiff
 * honours, with the kubelet's defaults. Durations are in milliseconds here.
 */
export interface AgentConfig {
  address: string;
  port: number;
  podCIDR: string;
  clusterDNS: string[];
  clusterDomain: string;
  maxPods: number;
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationSeconds: number;
  containerRuntimeEndpoint: string;
  podLogsDir: string;
  resolvConf: string;
  runtimeRequestTimeoutMs: number;
  syncFrequencyMs: number;
  cgroupDriver: 'cgroupfs' | 'systemd';
  cgroupRoot: string;
  systemReserved: Record<string, string>;
  kubeReserved: Record<string, string>;
  evictionHard: Record<string, string>;
  evictionSoft: Record<string, string>;
  evictionSoftGracePeriod: Record<string, string>;
  evictionMinimumReclaim: Record<string, string>;
  evictionPressureTransitionPeriodMs: number;
  evictionMaxPodGracePeriod: number;
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  imageMinimumGCAgeMs: number;
  imageMaximumGCAgeMs: number;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  clientCAFile: string;
  /** who may use the kubelet API: Webhook asks the API server (SubjectAccessReview), AlwaysAllow lets every authenticated client in */
  authorizationMode: 'Webhook' | 'AlwaysAllow';
  /** how long a Webhook answer is reused (cacheAuthorizedTTL 5m, cacheUnauthorizedTTL 30s) */
  authorizedTtlMs: number;
  unauthorizedTtlMs: number;
  serializeImagePulls: boolean;
  /** a directory of Pod manifests the agent runs itself (static pods); '' for none */
  staticPodPath: string;
  fileCheckFrequencyMs: number;
  /** renew the client certificate through the API before it expires (a certificate from TLS bootstrap) */
  rotateCertificates: boolean;
  /** get the kubelet API's serving certificate from the cluster (kubernetes.io/kubelet-serving) instead of tlsCertFile */
  serverTLSBootstrap: boolean;
}

export const DEFAULT_CONFIG: AgentConfig = {
  address: '0.0.0.0',
  port: 10250,
  podCIDR: '',
  clusterDNS: [],
  clusterDomain: 'cluster.local',
  maxPods: 110,
  nodeStatusUpdateFrequencyMs: 10_000,
  nodeStatusReportFrequencyMs: 5 * 60_000,
  nodeLeaseDurationSeconds: 40,
  containerRuntimeEndpoint: 'unix:///run/skiff/containerd/containerd.sock',
  podLogsDir: '/var/log/pods',
  resolvConf: '/etc/resolv.conf',
  runtimeRequestTimeoutMs: 2 * 60_000,
  syncFrequencyMs: 60_000,
  cgroupDriver: 'cgroupfs',
  cgroupRoot: '/',
  systemReserved: {},
  kubeReserved: {},
  evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10%', 'nodefs.inodesFree': '5%', 'imagefs.available': '15%', 'imagefs.inodesFree': '5%' },
  evictionSoft: {},
  evictionSoftGracePeriod: {},
  evictionMinimumReclaim: {},
  evictionPressureTransitionPeriodMs: 5 * 60_000,
  evictionMaxPodGracePeriod: 0,
  imageGCHighThresholdPercent: 85,
  imageGCLowThresholdPercent: 80,
  imageMinimumGCAgeMs: 2 * 60_000,
  imageMaximumGCAgeMs: 0,
  tlsCertFile: '',
  tlsPrivateKeyFile: '',
  clientCAFile: '',
  authorizationMode: 'Webhook',
  authorizedTtlMs: 300_000,
  unauthorizedTtlMs: 30_000,
  serializeImagePulls: true,
  staticPodPath: '',
  fileCheckFrequencyMs: 20_000,
  rotateCertificates: false,
  serverTLSBootstrap: false,
};

/** Fields of KubeletConfiguration that exist upstream but skiff does not act on yet. */
const KNOWN_UNSUPPORTED = new Set([
  'staticPodURL',
  'readOnlyPort',
  'healthzPort',
  'healthzBindAddress',
  'cpuManagerPolicy',
  'memoryManagerPolicy',
  'topologyManagerPolicy',
  'featureGates',
  'failSwapOn',
  'containerLogMaxSize',
  'containerLogMaxFiles',
  'shutdownGracePeriod',
  'shutdownGracePeriodCriticalPods',
  'registerNode',
  'registerWithTaints',
  'providerID',
  'kubeAPIQPS',
  'kubeAPIBurst',
  'hairpinMode',
  'enforceNodeAllocatable',
  'protectKernelDefaults',
  'makeIPTablesUtilChains',
  'tlsCipherSuites',
  'tlsMinVersion',
  'podPidsLimit',
  'volumePluginDir',
  'logging',
  'enableServer',
  'enableDebuggingHandlers',
  'httpCheckFrequency',
]);

export interface ConfigWarning {
  field: string;
  message: string;
}

const DURATIONS: Record<string, keyof AgentConfig> = {
  nodeStatusUpdateFrequency: 'nodeStatusUpdateFrequencyMs',
  nodeStatusReportFrequency: 'nodeStatusReportFrequencyMs',
  runtimeRequestTimeout: 'runtimeRequestTimeoutMs',
  syncFrequency: 'syncFrequencyMs',
  evictionPressureTransitionPeriod: 'evictionPressureTransitionPeriodMs',
  imageMinimumGCAge: 'imageMinimumGCAgeMs',
  imageMaximumGCAge: 'imageMaximumGCAgeMs',
  fileCheckFrequency: 'fileCheckFrequencyMs',
};

const PLAIN: readonly (keyof AgentConfig)[] = [
  'address',
  'port',
  'podCIDR',
  'clusterDNS',
  'clusterDomain',
  'maxPods',
  'nodeLeaseDurationSeconds',
  'containerRuntimeEndpoint',
  'podLogsDir',
  'resolvConf',
  'cgroupDriver',
  'cgroupRoot',
  'systemReserved',
  'kubeReserved',
  'evictionHard',
  'tlsCertFile',
  'tlsPrivateKeyFile',
  'serializeImagePulls',
  'evictionSoft',
  'evictionSoftGracePeriod',
  'evictionMinimumReclaim',
  'evictionMaxPodGracePeriod',
  'imageGCHighThresholdPercent',
  'imageGCLowThresholdPercent',
  'staticPodPath',
  'rotateCertificates',
  'serverTLSBootstrap',
];

/**
 * Reads a KubeletConfiguration document. Fields skiff honours override the
 * defaults; every other field is reported as a warning, never silently dropped.
 */
export function parseAgentConfig(text: string): { config: AgentConfig; warnings: ConfigWarning[] } {
  const doc = (YAML.parse(text) ?? {}) as Record<string, unknown>;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('the agent configuration must be a YAML mapping');
  if (doc.kind !== 'KubeletConfiguration') throw new Error(`kind must be KubeletConfiguration, got ${JSON.stringify(doc.kind)}`);
  if (doc.apiVersion !== 'kubelet.config.k8s.io/v1beta1')
    throw new Error(`apiVersion must be kubelet.config.k8s.io/v1beta1, got ${JSON.stringify(doc.apiVersion)}`);
  const config: AgentConfig = structuredClone(DEFAULT_CONFIG);
  const warnings: ConfigWarning[] = [];
  const set = config as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(doc)) {
    if (field === 'kind' || field === 'apiVersion') continue;
    if (field in DURATIONS) {
      set[DURATIONS[field] as string] = parseDuration(String(value));
    } else if ((PLAIN as readonly string[]).includes(field)) {
      const expected = typeof (DEFAULT_CONFIG as unknown as Record<string, unknown>)[field];
      const actual = Array.isArray(value) ? 'object' : typeof value;
      if (expected !== actual) throw new Error(`${field}: expected a ${expected}, got ${JSON.stringify(value)}`);
      set[field] = value;
    } else if (field === 'authentication') {
      const file = (value as { x509?: { clientCAFile?: string } })?.x509?.clientCAFile;
      if (file) config.clientCAFile = file;
      const rest = Object.keys((value as object) ?? {}).filter((k) => k !== 'x509');
      for (const k of rest) warnings.push({ field: `authentication.${k}`, message: 'not supported by skiff yet; ignored' });
    } else if (field === 'authorization') {
      readAuthorization(config, value, warnings);
    } else if (KNOWN_UNSUPPORTED.has(field)) {
      warnings.push({ field, message: 'a KubeletConfiguration field skiff does not honour yet; ignored' });
    } else {
      warnings.push({ field, message: 'unknown KubeletConfiguration field; ignored' });
    }
  }
  if (config.cgroupDriver !== 'cgroupfs' && config.cgroupDriver !== 'systemd')
    throw new Error(`cgroupDriver must be cgroupfs or systemd, got ${config.cgroupDriver}`);
  validateGarbageCollection(config);
  return { config, warnings };
}

/** KubeletConfiguration's authorization: {mode, webhook: {cacheAuthorizedTTL, cacheUnauthorizedTTL}}. */
function readAuthorization(config: AgentConfig, value: unknown, warnings: ConfigWarning[]): void {
  const a = (value ?? {}) as { mode?: string; webhook?: { cacheAuthorizedTTL?: string; cacheUnauthorizedTTL?: string } };
  if (a.mode !== undefined) {
    if (a.mode !== 'Webhook' && a.mode !== 'AlwaysAllow') throw new Error(`authorization.mode must be Webhook or AlwaysAllow, got ${JSON.stringify(a.mode)}`);
    config.authorizationMode = a.mode;
  }
  if (a.webhook?.cacheAuthorizedTTL !== undefined) config.authorizedTtlMs = parseDuration(a.webhook.cacheAuthorizedTTL);
  if (a.webhook?.cacheUnauthorizedTTL !== undefined) config.unauthorizedTtlMs = parseDuration(a.webhook.cacheUnauthorizedTTL);
  for (const k of Object.keys(a).filter((k) => k !== 'mode' && k !== 'webhook'))
    warnings.push({ field: `authorization.${k}`, message: 'unknown field; ignored' });
}

/** The kubelet's checks of the eviction and image GC settings; bad thresholds fail here, not at the first pressure. */
function validateGarbageCollection(config: AgentConfig): void {
  parseThresholds(config);
  const { imageGCHighThresholdPercent: high, imageGCLowThresholdPercent: low } = config;
  if (high < 0 || high > 100) throw new Error(`imageGCHighThresholdPercent (${high}) must be between 0 and 100`);
  if (low < 0 || low > 100) throw new Error(`imageGCLowThresholdPercent (${low}) must be between 0 and 100`);
  if (low >= high && high < 100) throw new Error(`imageGCLowThresholdPercent (${low}) must be less than imageGCHighThresholdPercent (${high})`);
  if (config.evictionMaxPodGracePeriod < 0) throw new Error(`evictionMaxPodGracePeriod (${config.evictionMaxPodGracePeriod}) must not be negative`);
}

export async function loadAgentConfig(path: string | undefined): Promise<{ config: AgentConfig; warnings: ConfigWarning[] }> {
  if (!path) return { config: structuredClone(DEFAULT_CONFIG), warnings: [] };
  return parseAgentConfig(await readFile(path, 'utf8'));
}
