import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { writeKubeconfig } from '../apimachinery/index.ts';
import { issueFromClusterCa } from '../control-plane/index.ts';

export interface NodeCredentialsRequest {
  /** the cluster's PKI directory (holds ca.crt and ca.key) */
  pkiDir: string;
  nodeName: string;
  nodeIP: string;
  server: string;
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

/**
 * Issues a node's identity from the cluster CA (a client certificate as
 * system:node:<name> and a serving certificate for its kubelet API) and
 * writes its kubeconfig and KubeletConfiguration. Used where the agent runs
 * on a host that holds the CA (skiff up, the lab, tests).
 */
export async function writeNodeCredentials(r: NodeCredentialsRequest): Promise<{ kubeconfig: string; config: string }> {
  await mkdir(r.dir, { recursive: true, mode: 0o700 });
  const client = await issueFromClusterCa(r.pkiDir, { commonName: `system:node:${r.nodeName}`, organizations: ['system:nodes'], usage: 'client' });
  const serving = await issueFromClusterCa(r.pkiDir, { commonName: r.nodeName, usage: 'server', dnsNames: [r.nodeName], ipAddresses: [r.nodeIP, '127.0.0.1'] });
  const kubeconfig = join(r.dir, 'agent.kubeconfig');
  await writeKubeconfig(kubeconfig, { server: r.server, ca: client.ca, cert: client.pair.cert, key: client.pair.key }, { user: `system:node:${r.nodeName}` });
  await writeFile(join(r.dir, 'ca.crt'), client.ca);
  await writeFile(join(r.dir, 'kubelet.crt'), serving.pair.cert);
  await writeFile(join(r.dir, 'kubelet.key'), serving.pair.key, { mode: 0o600 });
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    port: r.kubeletPort ?? 10250,
    containerRuntimeEndpoint: r.containerRuntimeEndpoint,
    tlsCertFile: join(r.dir, 'kubelet.crt'),
    tlsPrivateKeyFile: join(r.dir, 'kubelet.key'),
    authentication: { x509: { clientCAFile: join(r.dir, 'ca.crt') } },
    ...(r.podCIDR ? { podCIDR: r.podCIDR } : {}),
    ...(r.podLogsDir ? { podLogsDir: r.podLogsDir } : {}),
    ...(r.clusterDNS ? { clusterDNS: r.clusterDNS } : {}),
    ...(r.cgroupRoot ? { cgroupRoot: r.cgroupRoot } : {}),
    ...(r.cgroupDriver ? { cgroupDriver: r.cgroupDriver } : {}),
    ...r.extraConfig,
  };
  const configPath = join(r.dir, 'agent-config.yaml');
  await writeFile(configPath, YAML.stringify(config));
  return { kubeconfig, config: configPath };
}
