import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What differs between skiff's own containerd and the ones tests start. */
export interface ContainerdLayout {
  /** directory that receives config.toml, certs.d/ and net.d/ */
  configDir: string;
  root: string;
  state: string;
  socket: string;
  /** host:port of the local registry every registry name resolves to */
  registry: string;
  /** holds `loopback` and `skiff-delegate` */
  cniBinDir: string;
  /** unix socket where the agent answers the delegate plugin */
  delegateSocket: string;
  sandboxImage?: string;
  /**
   * where exec, attach and port-forward streams are served (loopback when
   * unset); a lab node's agent lives in another network namespace and needs
   * an address it can reach
   */
  streamServerAddress?: string;
  /** runc puts containers in systemd scopes below the pod's slice (the agent's systemd cgroup driver) */
  systemdCgroup?: boolean;
}

/** Registry names written explicitly; `_default` covers every other name. */
const KNOWN_REGISTRIES = [
  'docker.io',
  'registry.k8s.io',
  'k8s.gcr.io',
  'gcr.io',
  'quay.io',
  'ghcr.io',
  'registry.gitlab.com',
  'public.ecr.aws',
  'mcr.microsoft.com',
];

export const DEFAULT_SANDBOX_IMAGE = 'registry.k8s.io/pause:3.10';

export function renderContainerdConfig(l: ContainerdLayout): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const systemdCgroup = l.systemdCgroup === true;
  return `# Written by skiff. containerd 1.6, CRI v1.
version = 2
root = "${l.root}"
state = "${l.state}"
# plugins skiff never uses; they only add start-up time and noise
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${l.socket}"

[ttrpc]
  address = "${l.socket}.ttrpc"

[${cri}]
  sandbox_image = "${l.sandboxImage ?? DEFAULT_SANDBOX_IMAGE}"
  # this host does not allow lowering oom_score_adj; without this CRI refuses pods
  restrict_oom_score_adj = true
  enable_selinux = false
  max_container_log_line_size = 16384
  stream_server_address = "${l.streamServerAddress ?? '127.0.0.1'}"
  stream_server_port = "0"

  [${cri}.containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"

    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = ${systemdCgroup}

    [${cri}.containerd.runtimes.crun]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.crun.options]
        BinaryName = "crun"
        SystemdCgroup = ${systemdCgroup}

  [${cri}.cni]
    bin_dir = "${l.cniBinDir}"
    conf_dir = "${join(l.configDir, 'net.d')}"
    max_conf_num = 1

  [${cri}.registry]
    config_path = "${join(l.configDir, 'certs.d')}"
`;
}

/** A hosts.toml that sends every pull and resolve to the local registry over plain HTTP. */
export function renderHostsToml(registry: string): string {
  return `# Written by skiff: this host has no outside network; every pull goes to the local registry.
server = "http://${registry}"

[host."http://${registry}"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
`;
}

/** The one CNI config containerd runs: our delegate, which forwards to the agent. */
export function renderDelegateConf(delegateSocket: string): string {
  return `${JSON.stringify({ cniVersion: '1.0.0', name: 'skiff', type: 'skiff-delegate', socket: delegateSocket, capabilities: { portMappings: true, bandwidth: true } }, null, 2)}\n`;
}

export async function writeContainerdConfig(l: ContainerdLayout): Promise<void> {
  await mkdir(join(l.configDir, 'net.d'), { recursive: true });
  await writeFile(join(l.configDir, 'config.toml'), renderContainerdConfig(l));
  await writeFile(join(l.configDir, 'net.d', '10-skiff-delegate.conf'), renderDelegateConf(l.delegateSocket));
  for (const name of [...KNOWN_REGISTRIES, '_default']) {
    const dir = join(l.configDir, 'certs.d', name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'hosts.toml'), renderHostsToml(l.registry));
  }
}
