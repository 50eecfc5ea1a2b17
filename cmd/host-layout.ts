import { join } from 'node:path';
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
  /** what `skiff install` lays down: the release the units run, their settings (flag names as keys), the units */
  opt: '/opt/skiff',
  home: '/opt/skiff/current',
  configFile: '/etc/skiff/config.yaml',
  unitDir: '/etc/systemd/system',
} as const;

export const SKIFF_BIN = fileURLToPath(new URL('../bin/skiff', import.meta.url));

/**
 * Removes every pod sandbox this host's containerd holds (their containers
 * with them, their network through the real CNI plugins, as the agent would);
 * resolves with how many, or null when containerd does not answer.
 */
export async function removeHostPods(): Promise<number | null> {
  const { removeAllSandboxes, waitUntilServing } = await import('../lab/index.ts');
  const socket = join(HOST.containerdState, 'containerd.sock');
  const serving = await waitUntilServing(socket, 2000).then(
    () => true,
    () => false,
  );
  if (!serving) return null;
  return removeAllSandboxes({
    socket,
    delegateSocket: HOST.delegateSocket,
    cniConfDir: HOST.cniConfDir,
    cniBinDirs: [HOST.cniBinDir],
    cniCacheDir: join(HOST.agentRoot, 'cni-results'),
  });
}
