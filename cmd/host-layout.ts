import { fileURLToPath } from 'node:url';

/** Where `skiff up` puts things on a single host (and `skiff down` takes them away). */
export const HOST = {
  etc: '/etc/skiff',
  pki: '/etc/skiff/pki',
  adminKubeconfig: '/etc/skiff/admin.kubeconfig',
  nodeDir: '/etc/skiff/node',
  containerdBase: '/etc/skiff/containerd',
  containerdRoot: '/var/lib/skiff/containerd',
  containerdState: '/run/skiff/containerd',
  agentRoot: '/var/lib/skiff/agent',
  serverData: '/var/lib/skiff/server',
  /** the bundled CSI driver's volumes (sparse files, directories) and their records */
  csiState: '/var/lib/skiff/csi',
  csiSocket: '/var/lib/skiff/agent/plugins/csi.skiff.dev/csi.sock',
  pluginRegistry: '/var/lib/skiff/agent/plugins_registry',
  run: '/run/skiff',
  logs: '/var/log/skiff',
  podLogs: '/var/log/pods',
  cniConfDir: '/etc/cni/net.d',
  cniBinDir: '/usr/lib/cni',
  delegateSocket: '/run/skiff/cni.sock',
  registry: '127.0.0.1:5000',
  registryPid: '/run/skiff/registry.pid',
  /** the bridge named in cni-configs/10-skiff.conflist */
  bridge: 'skiff0',
  port: 6443,
} as const;

export const SKIFF_BIN = fileURLToPath(new URL('../bin/skiff', import.meta.url));
