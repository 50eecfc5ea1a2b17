import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import {
  RestClient,
  bootstrapTokenSecret,
  caCertHash,
  discoverCluster,
  loadKubeconfig,
  newBootstrapToken,
  tokenText,
  writeKubeconfig,
} from '../apimachinery/index.ts';

export interface NodeJoinRequest {
  /** an administrator's kubeconfig: the join token is made with it */
  adminKubeconfig: string;
  /** where the node reaches the API server */
  server: string;
  nodeName: string;
  /** where the node's files go */
  dir: string;
  kubeletPort?: number;
  podCIDR?: string;
  containerRuntimeEndpoint: string;
  podLogsDir?: string;
  clusterDNS?: string[];
  /** the pods' cgroup hierarchy goes below this (a test's own; the kubelet's default is the root) */
  cgroupRoot?: string;
  /** who makes the pods' cgroups (the agent's default: cgroupfs) */
  cgroupDriver?: 'cgroupfs' | 'systemd';
  /** further KubeletConfiguration fields (eviction thresholds, say) */
  extraConfig?: Record<string, unknown>;
}

const JOIN_TOKEN_TTL_MS = 2 * 3600_000;

/**
 * Prepares a node to join as any host joins: a join token (made with the
 * administrator's credentials, as `skiff token create`), discovery of the
 * cluster with it (the CA pinned by its hash), a bootstrap kubeconfig, and a
 * KubeletConfiguration that has the agent get its client and serving
 * certificates from the cluster and renew them. Nothing is cut from the CA's
 * files: `kubeconfig` appears when the agent's TLS bootstrap is done.
 */
export async function prepareNodeJoin(r: NodeJoinRequest): Promise<{ bootstrapKubeconfig: string; kubeconfig: string; config: string }> {
  await mkdir(r.dir, { recursive: true, mode: 0o700 });
  const adminConfig = await loadKubeconfig(r.adminKubeconfig);
  const admin = new RestClient(adminConfig, { userAgent: 'skiff-lab' });
  const token = newBootstrapToken({ ttlMs: JOIN_TOKEN_TTL_MS, description: `joins ${r.nodeName}` });
  try {
    await admin.create({ resource: 'secrets', namespace: 'kube-system' }, bootstrapTokenSecret(token));
  } finally {
    admin.close();
  }
  const cluster = await discoverCluster({ server: r.server, token: tokenText(token), caCertHashes: [await caCertHash(adminConfig.ca)] });
  const bootstrapKubeconfig = join(r.dir, 'bootstrap.kubeconfig');
  await writeKubeconfig(bootstrapKubeconfig, { ...cluster, token: tokenText(token) }, { user: 'tls-bootstrap-token-user' });
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    port: r.kubeletPort ?? 10250,
    containerRuntimeEndpoint: r.containerRuntimeEndpoint,
    rotateCertificates: true,
    serverTLSBootstrap: true,
    ...(r.podCIDR ? { podCIDR: r.podCIDR } : {}),
    ...(r.podLogsDir ? { podLogsDir: r.podLogsDir } : {}),
    ...(r.clusterDNS ? { clusterDNS: r.clusterDNS } : {}),
    ...(r.cgroupRoot ? { cgroupRoot: r.cgroupRoot } : {}),
    ...(r.cgroupDriver ? { cgroupDriver: r.cgroupDriver } : {}),
    ...r.extraConfig,
  };
  const configPath = join(r.dir, 'agent-config.yaml');
  await writeFile(configPath, YAML.stringify(config));
  return { bootstrapKubeconfig, kubeconfig: join(r.dir, 'agent.kubeconfig'), config: configPath };
}
