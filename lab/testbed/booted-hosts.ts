import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeCgroupTree } from '../../agent/index.ts';
import { addNetns, ensureNetnsMountPoint } from '../../apimachinery/index.ts';
import { forwardTcp } from './forward.ts';
import { REGISTRY } from './node.ts';
import { startTestSystemd, type TestSystemd } from './systemd.ts';

const run = promisify(execFile);

/** The host directories each booted host has its own of: what `skiff install` writes. */
const OWN_DIRS = ['/etc/skiff', '/var/lib/skiff', '/opt/skiff', '/etc/systemd/system', '/etc/cni/net.d', '/var/log/pods'];

export interface BootedHost {
  /** its name here; its hostname (and so its Node's name) is `<name>-<id>` */
  name: string;
  /** its address on the hosts' LAN */
  ip: string;
  /** the slice its pods' cgroups go below (pass to `skiff install … --cgroup-root`) */
  cgroupRoot: string;
  systemd: TestSystemd;
  /** runs a command on the host (its namespaces); resolves with stdout, rejects with the output on failure */
  exec(...cmd: string[]): Promise<string>;
  /** where one of its own directories (OWN_DIRS) lives, seen from here */
  hostPath(path: string): string;
}

export interface BootedHosts {
  hosts: BootedHost[];
  /** this machine's address on the hosts' LAN (the registry answers there too) */
  gateway: string;
  /** the `--registry` a booted host's containerd pulls from */
  registry: string;
  teardown(): Promise<void>;
}

/**
 * Booted test hosts: each a systemd as PID 1 in PID, mount and network
 * namespaces of its own, with its own /etc/skiff, /var/lib/skiff,
 * /opt/skiff, unit and CNI directories, on a LAN bridge of this test's
 * (`lan`.1 is this machine, where the local registry is forwarded). What a
 * host starts (units, pods, slices) goes with teardown, whatever the test
 * reached.
 */
export async function bootHosts(o: { count: number; lan: string }): Promise<BootedHosts> {
  const id = randomBytes(2).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'sk-hosts-'));
  const bridge = `skh${id}`;
  const gateway = `${o.lan}.1`;
  const hosts: BootedHost[] = [];
  let registry: Server | undefined;
  const teardown = async () => {
    for (const h of hosts) await h.systemd.stop();
    registry?.close();
    // what the hosts' systemds made in this machine's cgroup hierarchies
    for (const hierarchy of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
      for (const h of hosts) await removeCgroupTree(join('/sys/fs/cgroup', hierarchy, `${h.cgroupRoot}.slice`));
      for (const unit of ['skiff-containerd', 'skiff-server', 'skiff-agent'])
        await removeCgroupTree(join('/sys/fs/cgroup', hierarchy, 'system.slice', `${unit}.service`));
    }
    for (let i = 0; i < o.count; i++) {
      await run('ip', ['link', 'del', `${bridge}v${i}`]).catch(() => undefined);
      await run('ip', ['netns', 'del', `${bridge}n${i}`]).catch(() => undefined);
    }
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    if (!process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
  };
  try {
    await ensureNetnsMountPoint();
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await run('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    registry = await forwardTcp({ host: gateway, port: 5000 }, { host: '127.0.0.1', port: Number(REGISTRY.split(':')[1]) });
    for (let i = 0; i < o.count; i++) {
      const name = `host${i}`;
      const netns = `${bridge}n${i}`;
      const ip = `${o.lan}.${10 + i}`;
      await addNetns(netns);
      await run('ip', ['link', 'add', `${bridge}v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      await run('ip', ['link', 'set', `${bridge}v${i}`, 'master', bridge, 'up']);
      for (const args of [
        ['addr', 'add', `${ip}/24`, 'dev', 'eth0'],
        ['link', 'set', 'eth0', 'up'],
        ['link', 'set', 'lo', 'up'],
      ])
        await run('ip', ['-n', netns, ...args]);
      const binds: Record<string, string> = {};
      for (const d of OWN_DIRS) {
        binds[d] = join(dir, name, d);
        await mkdir(binds[d] as string, { recursive: true });
      }
      const systemd = await startTestSystemd(join(dir, `${name}.systemd.log`), { netns, binds, hostname: `${name}-${id}` });
      const exec = async (...cmd: string[]) => {
        const [c, ...args] = systemd.inside(cmd);
        try {
          return (await run(c as string, args, { timeout: 600_000, maxBuffer: 64 << 20 })).stdout;
        } catch (err) {
          const e = err as { stdout?: string; stderr?: string; message: string };
          throw new Error(`${cmd.join(' ')} on ${name}: ${e.message}\n${e.stdout ?? ''}`);
        }
      };
      hosts.push({ name, ip, cgroupRoot: `skiffhost${id}x${i}`, systemd, exec, hostPath: (path) => join(dir, name, path) });
    }
  } catch (err) {
    await teardown();
    throw err;
  }
  return { hosts, gateway, registry: `${gateway}:5000`, teardown };
}
