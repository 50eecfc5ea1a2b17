// A node joined as any host joins: a join token from `skiff token create`,
// discovery that pins the cluster's CA, TLS bootstrap of the agent's client
// certificate, a serving certificate for its kubelet API from the cluster,
// and both renewed before they expire (certificates live 40 s here) without
// a restart. A join token is tried as an attacker would: it joins, and does
// nothing else.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCluster, loadKubeconfig, writeKubeconfig } from '../../apimachinery/index.ts';
import { waitFor } from '../../lab/index.ts';
import { SKIFF, anonymousGet, kubectlFor, startTestCluster, waitForJsonPath, type Kubectl, type TestCluster } from '../../lab/testbed/index.ts';
import { certificateRequest } from '../harness/index.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('join', 222, { serverArgs: ['--cluster-signing-duration=40s'] });
}, 120_000);
afterAll(async () => {
  await c?.teardown();
}, 60_000);

const run = promisify(execFile);
const skiffToken = async (...args: string[]) => (await run(SKIFF, ['token', ...args, '--kubeconfig', c.kubeconfig])).stdout.trim();
/** The certificate part of the agent's current pem file: which one it holds now. */
const currentCert = async (name: 'kubelet-client' | 'kubelet-server') =>
  (await readFile(join(c.agentRoot, 'pki', `${name}-current.pem`), 'utf8')).split('-----END CERTIFICATE-----')[0];

/** kubectl holding a bootstrap token, nothing else. */
async function withToken(token: string, file: string): Promise<Kubectl> {
  const admin = await loadKubeconfig(c.kubeconfig);
  const path = join(c.node.dir, file);
  await writeKubeconfig(path, { server: admin.server, ca: admin.ca, token }, { user: 'bootstrap' });
  return kubectlFor(path);
}

describe('joining with a token', () => {
  it('runs pods on a node that joined with a token, and renews its client and serving certificates without a restart', async () => {
    const pid = c.agent.pid;
    // the kubelet API gets its certificate after the node registers
    await waitFor('the serving certificate', async () => !!(await currentCert('kubelet-server').catch(() => undefined)), 30_000, 200);
    const client = await currentCert('kubelet-client');
    const serving = await currentCert('kubelet-server');
    expect(await c.kubectl('get', 'csr', '-o', 'jsonpath={range .items[*]}{.spec.signerName}={.status.conditions[0].reason} {end}')).toMatch(
      /kubernetes.io\/kube-apiserver-client-kubelet=AutoApproved .*kubernetes.io\/kubelet-serving=AutoApproved|kubernetes.io\/kubelet-serving=AutoApproved .*kubernetes.io\/kube-apiserver-client-kubelet=AutoApproved/,
    );
    await waitFor(
      'both certificates renewed',
      async () => (await currentCert('kubelet-client')) !== client && (await currentCert('kubelet-server')) !== serving,
      90_000,
      1000,
    );
    expect(c.agent.pid).toBe(pid);
    expect(c.agent.exitCode).toBeNull();
    await c.kubectl('run', 'renewed', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'echo after the renewal');
    await waitForJsonPath(c, ['pod', 'renewed'], '{.status.phase}', 'Succeeded');
    // the API server reaches the kubelet over TLS it verifies, now with the renewed serving certificate
    expect((await c.kubectl('logs', 'renewed')).trim()).toBe('after the renewal');
    await waitForJsonPath(c, ['node', c.nodeName], '{.status.conditions[?(@.type=="Ready")].status}', 'True');
  }, 150_000);

  it('makes, lists and deletes join tokens, and discovery refuses a wrong secret, a wrong CA pin and an unknown token', async () => {
    const command = await skiffToken('create', '--ttl', '1h', '--description', 'e2e join');
    const m = /^skiff install agent --server (\S+) --token ([a-z0-9]{6})\.([a-z0-9]{16}) --ca-cert-hash (sha256:[0-9a-f]{64})$/.exec(command);
    expect(m, command).not.toBeNull();
    const [, server, id, secret, hash] = m as unknown as string[];
    const admin = await loadKubeconfig(c.kubeconfig);
    expect(await discoverCluster({ server: server as string, token: `${id}.${secret}`, caCertHashes: [hash as string] })).toEqual({ server, ca: admin.ca });
    await expect(discoverCluster({ server: server as string, token: `${id}.${'0'.repeat(16)}`, caCertHashes: [hash as string] })).rejects.toThrow(
      'the cluster-info signature does not verify with this token: wrong token secret',
    );
    await expect(discoverCluster({ server: server as string, token: `${id}.${secret}`, caCertHashes: [`sha256:${'0'.repeat(64)}`] })).rejects.toThrow(
      `the cluster's CA does not match --ca-cert-hash: its hash is ${hash}`,
    );
    await expect(discoverCluster({ server: server as string, token: `zzzzzz.${secret}`, caCertHashes: [], waitMs: 0 })).rejects.toThrow(
      'token id "zzzzzz" is not known to this cluster (no signature of it in cluster-info): wrong, expired or deleted token',
    );
    expect(await skiffToken('list')).toMatch(
      new RegExp(`^${id}\\.${secret}\\s+(59|60)m\\s+\\S+\\s+signing,authentication\\s+e2e join\\s+system:bootstrappers:skiff:default-node-token$`, 'm'),
    );
    const holder = await withToken(`${id}.${secret}`, 'deleted-token.kubeconfig');
    expect((await holder.kubectlResult(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout).toBe(`system:bootstrap:${id}`);
    expect(await skiffToken('delete', id as string)).toBe(`bootstrap token "${id}" deleted`);
    expect((await holder.kubectlResult(['get', 'csr'])).stderr.trim()).toBe('error: You must be logged in to the server (Unauthorized)');
  }, 60_000);
});

describe('a join token as an attacker holds it', () => {
  it('reads nothing but what joining needs, and gets no certificate but a node client one', async () => {
    const [, token] = /--token (\S+)/.exec(await skiffToken('create', '--ttl', '1h')) ?? [];
    const id = token?.split('.')[0];
    const k = await withToken(token as string, 'attacker.kubeconfig');
    expect((await k.kubectlResult(['get', 'secrets', '-n', 'kube-system'])).stderr.trim()).toBe(
      `Error from server (Forbidden): secrets is forbidden: User "system:bootstrap:${id}" cannot list resource "secrets" in API group "" in the namespace "kube-system"`,
    );
    const csr = async (name: string, subject: string, signerName: string, usages: string[]) => {
      const request = await certificateRequest({ keyFile: join(c.node.dir, `${name}.key`), requestFile: join(c.node.dir, `${name}.csr`), subject });
      const body = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name }, spec: { request, signerName, usages } };
      expect((await k.kubectlResult(['create', '-f', '-'], JSON.stringify(body))).code).toBe(0);
    };
    await csr('as-masters', '/O=system:masters/CN=system:node:evil', 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']);
    await csr('as-admin', '/CN=admin', 'kubernetes.io/kube-apiserver-client', ['digital signature', 'client auth']);
    await csr('as-server', '/O=system:nodes/CN=system:node:evil', 'kubernetes.io/kubelet-serving', ['digital signature', 'server auth']);
    await csr('new-node', '/O=system:nodes/CN=system:node:new-node', 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']);
    // the one a joining node needs is approved and issued; the queue has looked at the others before it
    await waitForJsonPath(c, ['csr', 'new-node'], '{.status.certificate}', /^\S+$/);
    for (const name of ['as-masters', 'as-admin', 'as-server'])
      expect(await c.kubectl('get', 'csr', name, '-o', 'jsonpath={.status.conditions}{.status.certificate}')).toBe('');
    // a token whose time is up stops working and is deleted
    const [, shortLived] = /--token (\S+)/.exec(await skiffToken('create', '--ttl', '2s')) ?? [];
    const expired = await withToken(shortLived as string, 'expired.kubeconfig');
    await waitFor(
      'the short-lived token deleted',
      async () => (await c.kubectlResult(['get', 'secret', '-n', 'kube-system', `bootstrap-token-${shortLived?.split('.')[0]}`])).code !== 0,
      20_000,
      500,
    );
    expect((await expired.kubectlResult(['get', 'csr'])).stderr.trim()).toBe('error: You must be logged in to the server (Unauthorized)');
  }, 60_000);

  it('lets anyone read cluster-info and nothing else in kube-public', async () => {
    const port = Number(new URL((await loadKubeconfig(c.kubeconfig)).server).port);
    expect((await anonymousGet(port, '/api/v1/namespaces/kube-public/configmaps/cluster-info')).status).toBe(200);
    const list = await anonymousGet(port, '/api/v1/namespaces/kube-public/configmaps');
    expect(list.status).toBe(401);
    expect(JSON.parse(list.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
  });
});
