import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import {
  RestClient,
  bootstrapTokenSecret,
  caCertHash,
  DEFAULT_LEADER_ELECTION,
  discoverCluster,
  loadKubeconfig,
  newBootstrapToken,
  tokenText,
  writeKubeconfig,
} from '../apimachinery/index.ts';

/** The agent's side of a join: where its files go and the KubeletConfiguration fields that differ by host. */
export interface NodeJoinFiles {
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

export interface NodeJoinRequest extends NodeJoinFiles {
  /** an administrator's kubeconfig: the join token is made with it */
  adminKubeconfig: string;
  /** where the node reaches the API server */
  server: string;
  nodeName: string;
}

const JOIN_TOKEN_TTL_MS = 2 * 3600_000;

/**
 * How long a join next to a server just started waits for the token's
 * signature: the bootstrap signer runs under a Lease, which a server that
 * died without releasing it holds until it expires.
 */
export const SIGNER_TAKEOVER_MS = DEFAULT_LEADER_ELECTION.leaseDurationMs + 4 * DEFAULT_LEADER_ELECTION.retryPeriodMs + 10_000;

/** A joining agent's files under its directory: what writeNodeJoin writes and the agent's flags name. */
export interface NodeJoinPaths {
  bootstrapKubeconfig: string;
  /** appears when the agent's TLS bootstrap is done */
  kubeconfig: string;
  /** its KubeletConfiguration */
  config: string;
}

export function nodeJoinPaths(dir: string): NodeJoinPaths {
  return { bootstrapKubeconfig: join(dir, 'bootstrap.kubeconfig'), kubeconfig: join(dir, 'agent.kubeconfig'), config: join(dir, 'agent-config.yaml') };
}

/** The agent's flags naming those files. */
export function agentJoinFlags(paths: NodeJoinPaths): string[] {
  return ['--config', paths.config, '--kubeconfig', paths.kubeconfig, '--bootstrap-kubeconfig', paths.bootstrapKubeconfig];
}

/** A join token made with an administrator's credentials (as `skiff token create`), and the pin of the cluster's CA. */
export async function createJoinToken(adminKubeconfig: string, description: string): Promise<{ token: string; caCertHash: string }> {
  const adminConfig = await loadKubeconfig(adminKubeconfig);
  const admin = new RestClient(adminConfig, { userAgent: 'skiff-join' });
  const token = newBootstrapToken({ ttlMs: JOIN_TOKEN_TTL_MS, description });
  try {
    await admin.create({ resource: 'secrets', namespace: 'kube-system' }, bootstrapTokenSecret(token));
  } finally {
    admin.close();
  }
  return { token: tokenText(token), caCertHash: await caCertHash(adminConfig.ca) };
}

/**
 * What an agent joining with a token starts from: a bootstrap kubeconfig
 * (the discovered cluster and the token) and a KubeletConfiguration that has
 * it get its client and serving certificates from the cluster and renew
 * them. `kubeconfig` appears when the agent's TLS bootstrap is done.
 */
export async function writeNodeJoin(cluster: { server: string; ca: string }, token: string, f: NodeJoinFiles): Promise<NodeJoinPaths> {
  await mkdir(f.dir, { recursive: true, mode: 0o700 });
  const paths = nodeJoinPaths(f.dir);
  await writeKubeconfig(paths.bootstrapKubeconfig, { ...cluster, token }, { user: 'tls-bootstrap-token-user' });
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    port: f.kubeletPort ?? 10250,
    containerRuntimeEndpoint: f.containerRuntimeEndpoint,
    rotateCertificates: true,
    serverTLSBootstrap: true,
    ...(f.podCIDR ? { podCIDR: f.podCIDR } : {}),
    ...(f.podLogsDir ? { podLogsDir: f.podLogsDir } : {}),
    ...(f.clusterDNS ? { clusterDNS: f.clusterDNS } : {}),
    ...(f.cgroupRoot ? { cgroupRoot: f.cgroupRoot } : {}),
    ...(f.cgroupDriver ? { cgroupDriver: f.cgroupDriver } : {}),
    ...f.extraConfig,
  };
  await writeFile(paths.config, YAML.stringify(config));
  return paths;
}

/**
 * Prepares a node to join as any host joins: a join token, discovery of the
 * cluster with it (the CA pinned by its hash), and the agent's files
 * (writeNodeJoin). Nothing is cut from the CA's files.
 */
export async function prepareNodeJoin(r: NodeJoinRequest): Promise<NodeJoinPaths> {
  const { token, caCertHash: hash } = await createJoinToken(r.adminKubeconfig, `joins ${r.nodeName}`);
  const cluster = await discoverCluster({ server: r.server, token, caCertHashes: [hash], waitMs: SIGNER_TAKEOVER_MS });
  return writeNodeJoin(cluster, token, r);
}
