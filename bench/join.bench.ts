// Joining hosts, as users join them: two booted hosts (systemd as PID 1 in
// namespaces of their own, on a LAN of the bench's). The first installs the
// server from the release tarball; the second joins five times with a fresh
// token (`skiff install agent` until its Node is Ready, then `skiff
// uninstall`). Also the tarball's size and the joined agent's resident
// memory under systemd with 30 pods.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { RestClient, loadKubeconfig } from '../apimachinery/index.ts';
import { waitFor } from '../lab/index.ts';
import { bootHosts, type BootedHost } from '../lab/testbed/index.ts';
import { summary } from './stats.ts';

const run = promisify(execFile);
const JOINS = 5;
const PODS = 30;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const booted = await bootHosts({ count: 2, lan: '10.255.251' });
const dir = await mkdtemp(join(tmpdir(), 'sk-joinbench-'));
try {
  const [server, joiner] = booted.hosts as [BootedHost, BootedHost];
  const tarball = join(
    ROOT,
    (await run('bash', [join(ROOT, 'scripts/release.sh')], { env: { ...process.env, SKIFF_RELEASE_VERSION: '0.0.0-bench' } })).stdout.trim(),
  );
  console.log(JSON.stringify({ scenario: 'join', case: 'release-tarball', mib: Math.round(((await stat(tarball)).size / 2 ** 20) * 10) / 10 }));
  await run('tar', ['-C', dir, '-xzf', tarball]);
  const skiff = join(dir, 'skiff-0.0.0-bench', 'bin', 'skiff');
  await server.exec(skiff, 'install', 'server', '--registry', booted.registry, '--cgroup-root', server.cgroupRoot);
  const admin = await loadKubeconfig(server.hostPath('/etc/skiff/admin.kubeconfig'));
  const client = new RestClient({ ...admin, server: `https://${server.ip}:6443` });
  const ready = async (name: string) => {
    const node = await client.get<Node>({ resource: 'nodes', name }).catch(() => undefined);
    return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  };
  const joinOnce = async () => {
    const command = await server.exec(skiff, 'token', 'create', '--kubeconfig', '/etc/skiff/admin.kubeconfig');
    const [, url, token, hash] = /--server (\S+) --token (\S+) --ca-cert-hash (\S+)/.exec(command) ?? [];
    const started = performance.now();
    await joiner.exec(
      skiff,
      'install',
      'agent',
      '--server',
      url as string,
      '--token',
      token as string,
      '--ca-cert-hash',
      hash as string,
      '--node-name',
      'joiner',
      '--registry',
      booted.registry,
      '--cgroup-root',
      joiner.cgroupRoot,
    );
    await waitFor('the joined node Ready', () => ready('joiner'), 60_000, 50);
    return performance.now() - started;
  };
  const times: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    times.push(await joinOnce());
    await joiner.exec(skiff, 'uninstall');
    await client.delete({ resource: 'nodes', name: 'joiner' });
  }
  console.log(JSON.stringify({ scenario: 'join', case: 'install-agent-to-node-ready', ...summary(times) }));

  await joinOnce();
  for (let i = 0; i < PODS; i++) {
    await client.create(
      { resource: 'pods', namespace: 'default' },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `rss-${i}` },
        spec: { nodeName: 'joiner', terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
      },
    );
  }
  await waitFor(
    `${PODS} pods Running`,
    async () =>
      (await client.get<{ items: Pod[] }>({ resource: 'pods', namespace: 'default' })).items.filter((p) => p.status?.phase === 'Running').length === PODS,
    180_000,
    500,
  );
  await new Promise((r) => setTimeout(r, 10_000));
  const pid = (await joiner.exec('systemctl', 'show', '--property=MainPID', '--value', 'skiff-agent')).trim();
  const rss = Number(/VmRSS:\s+(\d+)/.exec(await joiner.exec('cat', `/proc/${pid}/status`))?.[1] ?? 0);
  console.log(JSON.stringify({ scenario: 'join', case: 'agent-rss-under-systemd', pods: PODS, rss_mib: Math.round((rss / 1024) * 10) / 10 }));
  client.close();
} finally {
  await booted.teardown();
  await rm(dir, { recursive: true, force: true });
}
