// Audit logging with the real kubectl: a policy file and a log path turn it
// on; each request the policy logs is a JSON line with who, what, where and
// the answer's code (bodies where the level asks), found by the Audit-Id
// header every response carries.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig, type ClientConfig } from '../../apimachinery/index.ts';
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

const api = useTestApiServer('sk-audit-', (dir) => ['--disable-scheduler', '--disable-controllers', ...auditFlags(dir)], writeAuditPolicy(POLICY));
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
});
