// Audit logging with the real kubectl: a policy file and a log path turn it
// on; each request the policy logs is a JSON line with who, what, where and
// the answer's code (bodies where the level asks), found by the Audit-Id
// header every response carries. The same events go to a webhook (a loopback
// HTTPS server of the test's own, which asks for the client certificate its
// kubeconfig gives) in EventList batches; a batch it refuses is sent again.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCert, loadKubeconfig, writeKubeconfig, type ClientConfig } from '../../apimachinery/index.ts';
import { rawRequest } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';
import { auditEvents, auditFlags, writeAuditPolicy } from '../harness/audit-log.ts';

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ['/healthz*', '/readyz*', '/livez*']
- level: RequestResponse
  resources: [{group: '', resources: [configmaps]}]
- level: Metadata
`;

/** What the webhook was sent: each POST's events (auditIDs and stages), and whether it was refused. */
const posts: { ids: string[]; refused: boolean }[] = [];
let webhook: Server | undefined;

/** The audit webhook: refuses its first batch (500), takes the rest; only with the client certificate its CA issued. */
async function startWebhook(dir: string): Promise<void> {
  const ca = await createCA('audit-webhook-ca');
  const serving = await issueCert(ca, { commonName: 'audit-webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const client = await issueCert(ca, { commonName: 'kube-apiserver-audit', usage: 'client' });
  webhook = createServer({ cert: serving.cert, key: serving.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const list = JSON.parse(body) as { kind: string; apiVersion: string; items: { auditID: string; stage: string }[] };
      const refused = posts.length === 0;
      if (list.kind === 'EventList' && list.apiVersion === 'audit.k8s.io/v1') posts.push({ ids: list.items.map((e) => `${e.auditID}/${e.stage}`), refused });
      res.writeHead(refused ? 500 : 200).end();
    });
  });
  await new Promise<void>((resolve) => webhook?.listen(0, '127.0.0.1', () => resolve()));
  const { port } = webhook.address() as AddressInfo;
  await writeKubeconfig(join(dir, 'audit-webhook.kubeconfig'), { server: `https://127.0.0.1:${port}/audit`, ca: ca.cert, ...client }, { user: 'audit' });
}

const api = useTestApiServer(
  'sk-audit-',
  (dir) => [
    '--disable-scheduler',
    '--disable-controllers',
    ...auditFlags(dir),
    '--audit-webhook-config-file',
    join(dir, 'audit-webhook.kubeconfig'),
    '--audit-webhook-batch-max-wait=200ms',
    '--audit-webhook-initial-backoff=200ms',
  ],
  async (dir) => {
    await writeAuditPolicy(POLICY)(dir);
    await startWebhook(dir);
  },
);

afterAll(() => {
  webhook?.closeAllConnections();
  webhook?.close();
});
let cfg: ClientConfig;

beforeAll(async () => {
  cfg = await loadKubeconfig(api.kubeconfig);
});

const events = () => auditEvents(api.dir);

describe('audit log', () => {
  it('logs a write with who, what and the code, and its bodies where the policy says RequestResponse', async () => {
    await api.kubectl('create', 'configmap', 'audited', '-n', 'default', '--from-literal=k=v');
    await expect
      .poll(async () => (await events()).find((e) => e.verb === 'create' && e.objectRef?.resource === 'configmaps'), { timeout: 10_000 })
      .toMatchObject({
        level: 'RequestResponse',
        stage: 'ResponseComplete',
        requestURI: expect.stringMatching(/^\/api\/v1\/namespaces\/default\/configmaps/),
        user: { username: 'skiff-admin' },
        objectRef: { resource: 'configmaps', namespace: 'default', name: 'audited' },
        responseStatus: { code: 201 },
        requestObject: { metadata: { name: 'audited' } },
        responseObject: { metadata: { uid: expect.any(String) } },
        annotations: { 'authorization.k8s.io/decision': 'allow' },
      });
    expect((await events()).some((e) => e.requestURI.startsWith('/readyz'))).toBe(false);
  });

  it('names each request by the Audit-Id header it answers with, refused ones too', async () => {
    const listed = await rawRequest(cfg, { method: 'GET', path: '/api/v1/namespaces/default/pods' });
    const id = listed.headers['audit-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(async () => (await events()).find((e) => e.auditID === id), { timeout: 10_000 }).toMatchObject({ level: 'Metadata', verb: 'list' });
    const refused = await rawRequest(cfg, { method: 'GET', path: '/api/v1/pods', headers: { 'Impersonate-User': 'mallory' } });
    expect(refused.status).toBe(403);
    const refusedId = refused.headers['audit-id'] as string;
    await expect
      .poll(async () => (await events()).find((e) => e.auditID === refusedId), { timeout: 10_000 })
      .toMatchObject({ responseStatus: { code: 403 }, annotations: { 'authorization.k8s.io/decision': 'forbid' } });
  });

  it('sends the same events to the webhook in EventList batches, again where it refused one', async () => {
    await api.kubectl('create', 'configmap', 'sent', '-n', 'default', '--from-literal=k=v');
    const logged = async () => (await events()).find((e) => e.requestObject?.metadata?.name === 'sent');
    await expect.poll(logged, { timeout: 10_000 }).toBeDefined();
    const auditID = (await logged())?.auditID;
    const delivered = () => posts.filter((p) => !p.refused).flatMap((p) => p.ids);
    await expect.poll(delivered, { timeout: 10_000 }).toContain(`${auditID}/ResponseComplete`);
    // the refused batch came again, whole
    const refused = posts.find((p) => p.refused)?.ids ?? [];
    expect(refused.length).toBeGreaterThan(0);
    await expect.poll(() => refused.filter((id) => !delivered().includes(id)), { timeout: 10_000 }).toEqual([]);
  });
});
