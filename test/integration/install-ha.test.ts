// A second server joins the cluster as kubeadm's control-plane join does:
// `skiff token create --control-plane` seals the cluster CA and service-account
// keys into kube-system for a join token's holder, `skiff install server`
// with the token, the CA pin and the certificate key takes them over TLS and
// shares the first server's etcd. Two booted hosts; both servers serve the
// same cluster, both nodes are Ready; a wrong certificate key changes nothing.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig, writeKubeconfig } from '../../apimachinery/index.ts';
import { waitFor } from '../../lab/index.ts';
import { SKIFF, bootHosts, forwardTcp, kubectlFor, startTestEtcd, type BootedHost, type BootedHosts, type TestEtcd } from '../../lab/testbed/index.ts';

let dir = '';
let booted: BootedHosts | undefined;
let etcd: TestEtcd | undefined;
let etcdForward: Server | undefined;
let first: BootedHost;
let second: BootedHost;
let datastore = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-ha-'));
  booted = await bootHosts({ count: 2, lan: '10.255.252' });
  [first, second] = booted.hosts as [BootedHost, BootedHost];
  etcd = await startTestEtcd(join(dir, 'etcd'), 1);
  // the hosts reach the etcd on this machine through the LAN
  const port = Number(etcd.endpoints[0]?.split(':')[1]);
  etcdForward = await forwardTcp({ host: booted.gateway, port: port + 1 }, { host: '127.0.0.1', port });
  datastore = `etcd://${booted.gateway}:${port + 1}`;
}, 120_000);

afterAll(async () => {
  await booted?.teardown();
  etcdForward?.close();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
}, 120_000);

const hostFlags = (h: BootedHost) => ['--registry', (booted as BootedHosts).registry, '--cgroup-root', h.cgroupRoot];

/** kubectl from here against one host's server, as its administrator. */
async function kubectlOn(h: BootedHost) {
  const admin = await loadKubeconfig(h.hostPath('/etc/skiff/admin.kubeconfig'));
  const path = join(dir, `${h.name}.kubeconfig`);
  await writeKubeconfig(path, { ...admin, server: `https://${h.ip}:6443` }, { user: 'admin' });
  return kubectlFor(path);
}

describe('a second server joining with a token and a certificate key', () => {
  it('takes the CA over TLS, shares the etcd, and serves the same cluster; both nodes Ready', async () => {
    await first.exec(SKIFF, 'install', 'server', ...hostFlags(first), '--', '--datastore-endpoint', datastore);
    const command = (await first.exec(SKIFF, 'token', 'create', '--control-plane', '--kubeconfig', '/etc/skiff/admin.kubeconfig')).trim();
    const m = /^skiff install server --server (\S+) --token (\S+) --ca-cert-hash (\S+) --certificate-key ([0-9a-f]{64}) -- --datastore-endpoint (\S+)$/.exec(
      command,
    );
    expect(m, command).not.toBeNull();
    const [, server, token, hash, key, endpoint] = m as unknown as string[];
    expect(endpoint).toBe(datastore);
    const join = ['install', 'server', '--server', server as string, '--token', token as string, '--ca-cert-hash', hash as string, ...hostFlags(second)];

    // the wrong key opens nothing, and nothing is written
    const wrong = await second.exec(SKIFF, ...join, '--certificate-key', 'f'.repeat(64), '--', '--datastore-endpoint', datastore).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(wrong).toContain('skiff install: the certificate key does not open the skiff-certs Secret');
    expect(await readdir(second.hostPath('/etc/skiff'))).toEqual([]);

    await second.exec(SKIFF, ...join, '--certificate-key', key as string, '--', '--datastore-endpoint', datastore);
    expect(await readFile(second.hostPath('/etc/skiff/pki/ca.crt'), 'utf8')).toBe(await readFile(first.hostPath('/etc/skiff/pki/ca.crt'), 'utf8'));
    for (const h of [first, second]) {
      const k = await kubectlOn(h);
      await waitFor(
        `both nodes Ready through ${h.name}'s server`,
        async () => (await k.kubectlResult(['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True True',
        90_000,
        500,
      );
    }
    // a write through one server is read through the other
    await (await kubectlOn(second)).kubectl('create', 'configmap', 'through-second', '--from-literal=k=v');
    expect(await (await kubectlOn(first)).kubectl('get', 'configmap', 'through-second', '-o', 'jsonpath={.data.k}')).toBe('v');
  }, 300_000);
});
