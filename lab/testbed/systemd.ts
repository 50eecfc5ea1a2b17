// A systemd of a test's own, for testing the systemd cgroup driver on a host
// whose PID 1 is not systemd: systemd runs as PID 1 of a new PID and mount
// namespace with its own /run and a target that starts nothing. It manages
// the host's cgroup hierarchies from their roots, as a host's systemd would,
// so what it and runc compute for a slice agrees. Whatever must talk to it
// (systemctl, and containerd, whose runc sends it container PIDs) runs
// inside its namespaces through `inside()`.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeCgroupTree } from '../../agent/index.ts';
import { nsenterNetArgs } from '../../apimachinery/index.ts';
import { waitFor } from '../index.ts';

const run = promisify(execFile);
const CGROUP_MOUNT = '/sys/fs/cgroup';
/** what systemd makes at the top of every hierarchy it manages */
const SYSTEMD_TOP = ['init.scope', 'system.slice'];

export interface TestSystemd {
  pid: number;
  /** `cmd` run inside the systemd's PID and mount namespaces */
  inside(cmd: string[]): string[];
  /** its /run/systemd, as seen from the host */
  runtimeDir: string;
  /** kills the namespace (systemd and all that runs inside) and removes the cgroups systemd made */
  stop(): Promise<void>;
}

// In the new mount namespace: a /run of its own, and a /sys/fs/cgroup holding the host's hierarchies as
// they are (and no cgroup mounted elsewhere, which runc would write to) plus an empty placeholder wherever systemd would mount a controller the host never mounted.
// A v1 hierarchy systemd mounted would outlive the test (the kernel keeps it once it has had cgroups),
// would show in every process's /proc/<pid>/cgroup, and containerd, finding no mount for it on the host,
// would stop seeing containers' OOM kills.
const boot = (binds: string, hostname: string) => `set -e
${hostname}
grep ' - cgroup ' /proc/self/mountinfo | awk '{ print $5 }' | grep -v '^/sys/fs/cgroup/' | xargs -r -n1 umount -l
mount -t tmpfs tmpfs /run
${binds}
mkdir -p /run/systemd/system /run/host-cgroup
printf '[Unit]\\nDescription=skiff test: nothing to start\\n' > /run/systemd/system/skiff-test.target
# what sysinit.target and timers.target would start reaches past the namespace: systemd-tmpfiles-setup empties the
# host's /tmp, systemd-sysctl and swap change the kernel's settings, remount-fs the root filesystem's, sysusers /etc:
# masked, so a unit with default dependencies starts here without touching the host; the journal stays in /run
for d in /lib/systemd/system/sysinit.target.wants /etc/systemd/system/sysinit.target.wants /lib/systemd/system/timers.target.wants /etc/systemd/system/timers.target.wants; do
  for u in "$d"/*; do [ -e "$u" ] || continue; case "\${u##*/}" in systemd-journald.service) ;; *) ln -sf /dev/null "/run/systemd/system/\${u##*/}" ;; esac; done
done
for u in systemd-remount-fs.service systemd-fsck-root.service swap.target systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service systemd-journal-flush.service; do ln -sf /dev/null "/run/systemd/system/$u"; done
mkdir -p /run/systemd/journald.conf.d
printf '[Journal]\\nStorage=volatile\\n' > /run/systemd/journald.conf.d/skiff-test.conf
mount --rbind /sys/fs/cgroup /run/host-cgroup
mount -t tmpfs cgroup-root /sys/fs/cgroup
for d in /run/host-cgroup/*; do mkdir "/sys/fs/cgroup/\${d##*/}"; mount --bind "$d" "/sys/fs/cgroup/\${d##*/}"; done
umount -R /run/host-cgroup
for c in $(awk 'NR > 1 && $4 == 1 { print $1 }' /proc/cgroups) net_cls,net_prio; do
  [ -e "/sys/fs/cgroup/$c" ] || { mkdir "/sys/fs/cgroup/$c"; mount -t tmpfs placeholder "/sys/fs/cgroup/$c"; }
done
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /lib/systemd/systemd --system --unit=skiff-test.target`;

/** The cgroup v1 hierarchies mounted below /sys/fs/cgroup in a process's mount namespace, by their options (cpu, memory, name=systemd, …). */
async function cgroupMounts(pid: number | 'self'): Promise<Set<string>> {
  const mountinfo = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
  const out = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    const [type, , options] = after?.split(' ') ?? [];
    if (type === 'cgroup' && before?.split(' ')[4]?.startsWith('/sys/fs/cgroup/'))
      out.add(
        (options ?? '')
          .split(',')
          .filter((o) => o !== 'rw' && o !== 'ro')
          .join(','),
      );
  }
  return out;
}

/** The top-level cgroups of each hierarchy that systemd would make and that are not there yet. */
async function absentTops(): Promise<string[]> {
  const out: string[] = [];
  for (const h of await readdir(CGROUP_MOUNT)) {
    for (const top of SYSTEMD_TOP) {
      const dir = join(CGROUP_MOUNT, h, top);
      if (
        !(await access(dir).then(
          () => true,
          () => false,
        ))
      )
        out.push(dir);
    }
  }
  return out;
}

export interface TestSystemdOptions {
  /** the network namespace (a name under /run/netns) the systemd and all it starts live in; none: the host's */
  netns?: string;
  /** its hostname (its own UTS namespace, and /etc/hostname bound over, which systemd sets it from at boot); the host's otherwise */
  hostname?: string;
  /** host directories bound over paths of its mount namespace, so what it installs and keeps is a test's own (/etc/skiff, /var/lib/skiff …) */
  binds?: Record<string, string>;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function startTestSystemd(logFile: string, o: TestSystemdOptions = {}): Promise<TestSystemd> {
  const made = await absentTops();
  const log = openSync(logFile, 'a');
  if (o.hostname) {
    const file = `${logFile}.hostname`;
    await writeFile(file, `${o.hostname}\n`);
    o = { ...o, binds: { ...o.binds, '/etc/hostname': file } };
  }
  const binds = Object.entries(o.binds ?? {})
    .map(([target, source]) => `[ -e ${quote(target)} ] || mkdir -p ${quote(target)}; mount --bind ${quote(source)} ${quote(target)}`)
    .join('\n');
  const enterNet = o.netns ? ['nsenter', ...nsenterNetArgs(o.netns)] : [];
  const [command, ...args] = [
    ...enterNet,
    'unshare',
    '--pid',
    '--fork',
    '--mount',
    '--mount-proc',
    '--uts',
    '--ipc',
    'sh',
    '-c',
    boot(binds, o.hostname ? `hostname ${quote(o.hostname)}` : ''),
  ];
  const unshare = spawn(command as string, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => unshare.once('exit', () => resolve()));
  let pid = 0;
  const inside = (cmd: string[]) => ['nsenter', '--target', String(pid), '--mount', '--pid', '--uts', ...(o.netns ? ['--net'] : []), '--', ...cmd];
  const stop = async () => {
    if (pid) process.kill(pid, 'SIGKILL');
    else unshare.kill('SIGKILL');
    await exited;
    for (const dir of made) await removeCgroupTree(dir);
  };
  try {
    await waitFor(
      'the test systemd to start',
      async () => {
        // unshare's one child is the shell that became systemd
        const children = (await readFile(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8')).trim();
        pid = Number(children.split(' ')[0]);
        if (!pid) return false;
        const [cmd, ...args] = inside(['systemctl', 'is-system-running']);
        const { stdout } = await run(cmd!, args).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
        return stdout.trim() === 'running';
      },
      30_000,
      100,
    );
    // systemd mounted no hierarchy of its own (see BOOT)
    const host = await cgroupMounts('self');
    const extra = [...(await cgroupMounts(pid))].filter((h) => !host.has(h));
    if (extra.length) throw new Error(`the test systemd mounted cgroup hierarchies the host has not: ${extra.join(' ')}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid, inside, runtimeDir: `/proc/${pid}/root/run/systemd`, stop };
}
