// skiff installed as a host installs it, from the release tarball, under a
// real systemd: a booted test host (systemd as PID 1 in its own PID, mount
// and network namespaces, with /etc/skiff, /var/lib/skiff, /opt/skiff, the
// unit and CNI directories of its own). `skiff install server` brings up
// containerd, the server and the host's own agent as units; the node goes
// Ready and runs a pod; restarting or killing the agent leaves the pod's
// containers alone; installing a newer release upgrades in place with the
// pod untouched; `skiff uninstall` leaves nothing behind.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig, writeKubeconfig } from '../../apimachinery/index.ts';
import { waitFor } from '../../lab/index.ts';
import { bootHosts, kubectlFor, type BootedHost, type BootedHosts, type Kubectl } from '../../lab/testbed/index.ts';

const run = promisify(execFile);
const RELEASE_SCRIPT = fileURLToPath(new URL('../../scripts/release.sh', import.meta.url));
/** the two releases installed one after the other: their bin/skiff */
const release = { first: '', second: '' };

let booted: BootedHosts | undefined;
let host: BootedHost;
let dir = '';
let kubectl: Kubectl;
const installFlags = () => ['install', 'server', '--registry', (booted as BootedHosts).registry, '--cgroup-root', host.cgroupRoot];
const onHost = (...cmd: string[]) => host.exec(...cmd);

const containerIds = async () =>
  (
    await kubectl.kubectl('get', 'pod', 'keeper', '-o', 'jsonpath={.status.containerStatuses[*].containerID} {.status.containerStatuses[*].restartCount}')
  ).trim();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-install-'));
  booted = await bootHosts({ count: 1, lan: '10.255.250' });
  host = booted.hosts[0] as BootedHost;
  // a release tarball, and a second release made from it (a newer version of the same code)
  const { stdout } = await run('bash', [RELEASE_SCRIPT], { env: { ...process.env, SKIFF_RELEASE_VERSION: '0.0.0-install-1' } });
  await mkdir(join(dir, 'r1'));
  await run('tar', ['-C', join(dir, 'r1'), '-xzf', join(fileURLToPath(new URL('../..', import.meta.url)), stdout.trim())]);
  await run('cp', ['-a', join(dir, 'r1', 'skiff-0.0.0-install-1'), join(dir, 'skiff-0.0.0-install-2')]);
  await writeFile(join(dir, 'skiff-0.0.0-install-2', 'RELEASE'), '0.0.0-install-2\n');
  release.first = join(dir, 'r1', 'skiff-0.0.0-install-1', 'bin', 'skiff');
  release.second = join(dir, 'skiff-0.0.0-install-2', 'bin', 'skiff');
}, 120_000);

afterAll(async () => {
  await booted?.teardown();
  if (!process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('skiff install under systemd', () => {
  it('installs the server and its agent as units from the release tarball; the node goes Ready and runs a pod', async () => {
    await onHost(release.first, ...installFlags());
    expect(await readlink(host.hostPath('/opt/skiff/current'))).toBe('/opt/skiff/releases/0.0.0-install-1');
    for (const unit of ['skiff-containerd', 'skiff-server', 'skiff-agent']) expect((await onHost('systemctl', 'is-active', unit)).trim()).toBe('active');
    expect((await onHost('systemctl', 'is-enabled', 'skiff-agent')).trim()).toBe('enabled');
    // the administrator's kubeconfig, from outside: the server at the booted host's address
    const admin = await loadKubeconfig(host.hostPath('/etc/skiff/admin.kubeconfig'));
    const path = join(dir, 'admin.kubeconfig');
    await writeKubeconfig(path, { ...admin, server: `https://${host.ip}:6443` }, { user: 'admin' });
    kubectl = kubectlFor(path);
    await waitFor(
      'the node Ready',
      async () => (await kubectl.kubectlResult(['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
      60_000,
      500,
    );
    await kubectl.kubectl('run', 'keeper', '--image=busybox', '--', 'sleep', '3600');
    await waitFor(
      'the pod Running',
      async () => (await kubectl.kubectlResult(['get', 'pod', 'keeper', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running',
      90_000,
      500,
    );
    expect(await onHost('journalctl', '-u', 'skiff-agent', '--no-pager')).toMatch(/agent started/);
  }, 240_000);

  it('provisions a claim from the default StorageClass through the bundled CSI driver the agent serves', async () => {
    // no driver process of its own: the agent's registers itself
    expect(await onHost('sh', '-c', 'ps -e -o args= | grep "[c]si-driver" || true')).toBe('');
    const claimed = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 16Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  containers: [{name: c, image: busybox, command: [sh, -c, 'echo kept > /data/f && sleep 3600'], volumeMounts: [{name: d, mountPath: /data}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
`;
    const applied = await kubectl.kubectlResult(['apply', '-f', '-'], claimed);
    expect(applied.stderr).toBe('');
    await waitFor(
      'the claim-backed pod Running',
      async () => (await kubectl.kubectlResult(['get', 'pod', 'writer', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running',
      90_000,
      500,
    );
    expect(await kubectl.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.status.phase} {.spec.storageClassName}')).toBe('Bound skiff-local');
    expect(await kubectl.kubectl('exec', 'writer', '--', 'cat', '/data/f')).toBe('kept\n');
  }, 120_000);

  it("leaves the pod's containers alone when the agent restarts or is killed, and across an upgrade in place", async () => {
    const before = await containerIds();
    expect(before).toMatch(/^containerd:\/\/\w+ 0$/);
    await onHost('systemctl', 'restart', 'skiff-agent');
    await onHost('systemctl', 'kill', '-s', 'KILL', 'skiff-agent');
    await waitFor('the agent back', async () => (await onHost('systemctl', 'is-active', 'skiff-agent').catch(() => '')).trim() === 'active', 30_000, 500);
    const agentPid = await onHost('systemctl', 'show', '--property=MainPID', '--value', 'skiff-agent');
    await onHost(release.second, ...installFlags());
    expect(await readlink(host.hostPath('/opt/skiff/current'))).toBe('/opt/skiff/releases/0.0.0-install-2');
    // the new release runs: the agent was restarted onto it
    expect(await onHost('systemctl', 'show', '--property=MainPID', '--value', 'skiff-agent')).not.toBe(agentPid);
    await waitFor(
      'the node Ready',
      async () => (await kubectl.kubectlResult(['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
      60_000,
      500,
    );
    expect(await containerIds()).toBe(before);
  }, 180_000);

  it('refuses to join with a wrong token, a wrong CA pin or a server it cannot reach, in one line, changing nothing', async () => {
    const config = await readFile(host.hostPath('/etc/skiff/config.yaml'), 'utf8');
    const created = await onHost(release.second, 'token', 'create', '--kubeconfig', '/etc/skiff/admin.kubeconfig');
    const [, token, hash] = /--token (\S+) --ca-cert-hash (\S+)/.exec(created) ?? [];
    const refusal = async (...flags: string[]) => {
      const err = await onHost(release.second, 'install', 'agent', ...flags).then(
        () => '',
        (e: Error) => e.message,
      );
      // the error carries the command's stderr twice (execFile's message and the output): its lines once
      return [...new Set(err.split('\n').filter((l) => l.startsWith('skiff install:')))];
    };
    const server = `https://${host.ip}:6443`;
    expect(await refusal('--server', server, '--token', `${token?.split('.')[0]}.${'0'.repeat(16)}`, '--ca-cert-hash', hash as string)).toEqual([
      'skiff install: the cluster-info signature does not verify with this token: wrong token secret',
    ]);
    expect(await refusal('--server', server, '--token', token as string, '--ca-cert-hash', `sha256:${'0'.repeat(64)}`)).toEqual([
      `skiff install: the cluster's CA does not match --ca-cert-hash: its hash is ${hash}`,
    ]);
    const [unreachable] = await refusal('--server', 'https://10.255.250.9:6443', '--token', token as string, '--ca-cert-hash', hash as string);
    expect(unreachable).toMatch(/^skiff install: cannot reach the server at https:\/\/10\.255\.250\.9:6443: /);
    expect(await readFile(host.hostPath('/etc/skiff/config.yaml'), 'utf8')).toBe(config);
  }, 60_000);

  it('uninstalls: units, pods, mounts, links, nft tables and files all gone', async () => {
    await onHost(release.second, 'uninstall');
    expect(await onHost('systemctl', 'list-units', '--all', '--no-legend', 'skiff-*.service')).toBe('');
    expect(await onHost('sh', '-c', 'ps -e -o comm= | grep -E "containerd|skiff|node|sleep" || true')).toBe('');
    expect(await onHost('nft', 'list', 'tables')).not.toMatch(/skiff/);
    expect(
      (await onHost('ip', '-br', 'link'))
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/[\s@]/)[0]),
    ).toEqual(['lo', 'eth0']);
    expect(await onHost('sh', '-c', "grep -E ' /(var/lib/skiff/|run/skiff|run/netns/cni-)' /proc/self/mountinfo || true")).toBe('');
    for (const d of ['/etc/skiff', '/var/lib/skiff', '/opt/skiff', '/etc/systemd/system', '/etc/cni/net.d', '/var/log/pods'])
      expect(await readdir(host.hostPath(d)), d).toEqual([]);
  }, 120_000);
});
