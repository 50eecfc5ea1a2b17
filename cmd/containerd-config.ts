import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { writeContainerdConfig } from '../agent/cri/index.ts';

/** skiff containerd-config --out DIR …: writes config.toml, certs.d/ and net.d/ under DIR. */
export async function runContainerdConfig(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: '/etc/skiff/containerd' },
      root: { type: 'string', default: '/var/lib/skiff/containerd' },
      state: { type: 'string', default: '/run/skiff/containerd' },
      registry: { type: 'string', default: '127.0.0.1:5000' },
      'cni-bin-dir': { type: 'string', default: '/opt/skiff/cni/bin' },
      'delegate-socket': { type: 'string', default: '/run/skiff/cni.sock' },
    },
  });
  const state = values.state as string;
  await writeContainerdConfig({
    configDir: values.out as string,
    root: values.root as string,
    state,
    socket: join(state, 'containerd.sock'),
    registry: values.registry as string,
    cniBinDir: values['cni-bin-dir'] as string,
    delegateSocket: values['delegate-socket'] as string,
  });
}
