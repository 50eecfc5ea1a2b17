// What authorization costs, with and without it in one run, in turns so both
// see the same host: API writes by 16 clients as a superuser (no authorizer
// runs) and as a user RBAC allows; pod status writes by the node running the
// pods (Node authorizer and NodeRestriction) and by a superuser; and the
// kubelet API answering GET /pods with AlwaysAllow, with Webhook answers
// cached (the default), and with every request asking the API server.
import { Registry } from 'prom-client';
import { Agent } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:https';
import { RestClient, loadKubeconfig, silentLogger, type ClientConfig, type KeyPair } from '../apimachinery/index.ts';
import { KubeletAuth, startKubeletServer, type CriClient } from '../agent/index.ts';
import { issueFromClusterCa } from '../control-plane/index.ts';
import { startTestApiServer, type TestApiServer } from '../lab/testbed/index.ts';
import { freePort } from '../lab/testbed/index.ts';
import { rawRequest } from '../lab/testbed/index.ts';
import { summary } from './stats.ts';

const ROUNDS = 3;

/** `total` requests from `clients` concurrent clients; the latency of each, in ms. */
async function drive(clients: number, total: number, one: (i: number, agent: Agent) => Promise<void>): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await one(i, agent);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  agent.destroy();
  return latencies;
}

async function expectStatus(p: Promise<{ status: number; text: string }>, want: number): Promise<void> {
  const r = await p;
  if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${r.text}`);
}

async function clientAs(api: TestApiServer, commonName: string, organizations: string[] = []): Promise<ClientConfig> {
  const admin = await loadKubeconfig(api.kubeconfig);
  const { pair } = await issueFromClusterCa(api.pkiDir, { commonName, organizations, usage: 'client' });
  return { ...admin, cert: pair.cert, key: pair.key };
}

async function apiWrites(api: TestApiServer): Promise<void> {
  const admin = await loadKubeconfig(api.kubeconfig);
  const editor = await clientAs(api, 'bench-editor');
  const node = await clientAs(api, 'system:node:bench-node', ['system:nodes']);
  await expectStatus(
    rawRequest(admin, {
      method: 'POST',
      path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      body: {
        metadata: { name: 'bench-editor' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
        subjects: [{ kind: 'User', name: 'bench-editor' }],
      },
    }),
    201,
  );
  const pods = 200;
  await drive(16, pods, (i, agent) =>
    expectStatus(
      rawRequest(admin, {
        method: 'POST',
        path: '/api/v1/namespaces/default/pods',
        agent,
        body: { metadata: { name: `p${i}` }, spec: { nodeName: 'bench-node', containers: [{ name: 'c', image: 'busybox' }] } },
      }),
      201,
    ),
  );
  const samples: Record<string, number[]> = { 'configmaps-superuser': [], 'configmaps-rbac': [], 'pod-status-superuser': [], 'pod-status-node': [] };
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, cfg] of [
      ['superuser', admin],
      ['rbac', editor],
    ] as const) {
      samples[`configmaps-${name}`]?.push(
        ...(await drive(16, 1000, (_i, agent) =>
          expectStatus(
            rawRequest(cfg, {
              method: 'POST',
              path: '/api/v1/namespaces/default/configmaps',
              agent,
              body: { metadata: { name: `c${n++}` }, data: { k: 'v' } },
            }),
            201,
          ),
        )),
      );
    }
    for (const [name, cfg] of [
      ['superuser', admin],
      ['node', node],
    ] as const) {
      samples[`pod-status-${name}`]?.push(
        ...(await drive(16, 1000, (i, agent) =>
          expectStatus(
            rawRequest(cfg, {
              method: 'PATCH',
              path: `/api/v1/namespaces/default/pods/p${i % pods}/status`,
              agent,
              contentType: 'application/merge-patch+json',
              body: { status: { message: `m${n++}` } },
            }),
            200,
          ),
        )),
      );
    }
  }
  for (const [name, xs] of Object.entries(samples)) console.log(JSON.stringify({ scenario: 'authz-api', case: name, clients: 16, ...summary(xs) }));
}

/** A kubelet API server with nothing behind it but a pod list: only authentication and authorization are measured. */
async function kubeletWith(auth: KubeletAuth, tls: { cert: string; key: string; clientCA: string }): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = await startKubeletServer({
    nodeName: 'bench-node',
    address: '127.0.0.1',
    port,
    tls,
    auth,
    log: silentLogger,
    podByName: () => undefined,
    runningPods: () => [],
    cri: {} as CriClient,
    observe: async () => ({ sandboxes: [], containers: [] }) as never,
    summary: async () => ({}),
    metrics: { registry: new Registry(), probes: new Registry(), cadvisor: async () => '' },
  });
  return { server, port };
}

async function kubeletApi(api: TestApiServer): Promise<void> {
  const node = await clientAs(api, 'system:node:bench-node', ['system:nodes']);
  const client = new RestClient(node);
  const serving: KeyPair = await issueFromClusterCa(api.pkiDir, { commonName: 'bench-node', usage: 'server', ipAddresses: ['127.0.0.1'] }).then((r) => r.pair);
  const tls = { cert: serving.cert, key: serving.key, clientCA: node.ca };
  // the API server's own identity towards kubelets, as kubectl logs and exec reach them
  const caller = { ...(await clientAs(api, 'kube-apiserver-kubelet-client')), server: '' };
  const modes = {
    'always-allow': await kubeletWith(new KubeletAuth(client, 'bench-node', { mode: 'AlwaysAllow' }), tls),
    'webhook-cached': await kubeletWith(new KubeletAuth(client, 'bench-node'), tls),
    'webhook-uncached': await kubeletWith(new KubeletAuth(client, 'bench-node', { allowTtlMs: 0, denyTtlMs: 0 }), tls),
  };
  const samples: Record<string, number[]> = { 'always-allow': [], 'webhook-cached': [], 'webhook-uncached': [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [mode, { port }] of Object.entries(modes)) {
        const cfg = { ...caller, server: `https://127.0.0.1:${port}` };
        samples[mode]?.push(...(await drive(4, 1000, (_i, agent) => expectStatus(rawRequest(cfg, { method: 'GET', path: '/pods', agent }), 200))));
      }
    }
  } finally {
    for (const { server } of Object.values(modes)) server.close();
    client.close();
  }
  for (const [mode, xs] of Object.entries(samples)) console.log(JSON.stringify({ scenario: 'authz-kubelet', case: mode, clients: 4, ...summary(xs) }));
}

const dir = await mkdtemp(join(tmpdir(), 'sk-bench-authz-'));
const api = await startTestApiServer(dir, ['--disable-scheduler', '--disable-controllers', '--log-level', 'warn']);
try {
  await apiWrites(api);
  await kubeletApi(api);
} finally {
  await api.stop();
  await rm(dir, { recursive: true, force: true });
}
