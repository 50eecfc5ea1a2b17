// The aggregation layer with the real kubectl: an APIService hands
// example.com/v1 to an extension API server of the test's own (HTTPS on
// loopback: the server's Service range is loopback here, so the Service's
// ClusterIP is where it listens). The extension server trusts the caller as
// a real one does, from kube-system/extension-apiserver-authentication: the
// front-proxy client certificate, then the user in X-Remote-User. kubectl
// finds its resources through discovery and lists them; RBAC still decides
// here first; an APIService whose Service has no endpoints is unavailable
// (503); the built-in group versions are Local APIServices.
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCert } from '../../apimachinery/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

const SERVICE_IP = '127.0.100.20';
const PORT = 8443;
const api = useTestApiServer('sk-aggregation-', ['--disable-scheduler', '--disable-controllers', '--service-cluster-ip-range', '127.0.100.0/24']);
let extension: Server;
let caBundle = '';
/** what the extension server was asked, and by whom it was told the user is */
const asked: string[] = [];

const RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'example.com/v1',
  resources: [{ name: 'widgets', singularName: 'widget', namespaced: true, kind: 'Widget', verbs: ['get', 'list'], shortNames: ['wd'] }],
};

const OPENAPI = {
  openapi: '3.0.0',
  info: { title: 'example', version: 'v1' },
  paths: {
    '/apis/example.com/v1/namespaces/{namespace}/widgets/{name}': {
      get: {
        'x-kubernetes-action': 'get',
        'x-kubernetes-group-version-kind': { group: 'example.com', version: 'v1', kind: 'Widget' },
        responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/com.example.v1.Widget' } } } } },
      },
    },
  },
  components: {
    schemas: {
      'com.example.v1.Widget': {
        type: 'object',
        description: 'A Widget is served by the extension API server of this test.',
        properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, spec: { type: 'object', properties: { size: { type: 'integer' } } } },
        'x-kubernetes-group-version-kind': [{ group: 'example.com', version: 'v1', kind: 'Widget' }],
      },
    },
  },
};

beforeAll(async () => {
  const ca = await createCA('extension-ca');
  const serving = await issueCert(ca, { commonName: 'ext.default.svc', dnsNames: ['ext.default.svc'], usage: 'server' });
  caBundle = Buffer.from(ca.cert).toString('base64');
  // as an extension API server does: the front-proxy CA and the name it may have, from the cluster's ConfigMap
  const config = JSON.parse(
    await api.kubectl('get', 'configmap', '-n', 'kube-system', 'extension-apiserver-authentication', '-o', 'jsonpath={.data}'),
  ) as Record<string, string>;
  const allowed = JSON.parse(config['requestheader-allowed-names'] ?? '[]') as string[];
  extension = createServer(
    { cert: serving.cert, key: serving.key, ca: config['requestheader-client-ca-file'], requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const trusted = (req.socket as TLSSocket).authorized && allowed.includes(peer.subject?.CN as string);
      const user = trusted ? req.headers['x-remote-user'] : undefined;
      asked.push(
        `${req.method} ${req.url} ${user ?? 'untrusted'} ${String(req.headers['x-remote-group']).replaceAll(' ', '')} ${req.headers.authorization ?? ''}`,
      );
      const send = (code: number, body: object) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (!user) return send(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized' });
      if (req.url === '/apis/example.com/v1') return send(200, RESOURCES);
      if (req.url?.startsWith('/openapi/v3/apis/example.com/v1')) return send(200, OPENAPI);
      if (req.url?.startsWith('/apis/example.com/v1/namespaces/default/widgets'))
        return send(200, {
          kind: 'WidgetList',
          apiVersion: 'example.com/v1',
          metadata: { resourceVersion: '1' },
          items: [
            {
              kind: 'Widget',
              apiVersion: 'example.com/v1',
              metadata: { name: `for-${user}`, namespace: 'default', creationTimestamp: new Date().toISOString() },
            },
          ],
        });
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' });
    },
  );
  await new Promise<void>((resolve) => extension.listen(PORT, SERVICE_IP, () => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    extension?.close(() => resolve());
    extension?.closeAllConnections();
  });
});

const MANIFEST = () => `apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec: {clusterIP: ${SERVICE_IP}, ports: [{name: https, port: ${PORT}, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ext-1, namespace: default, labels: {kubernetes.io/service-name: ext}}
addressType: IPv4
ports: [{name: https, port: ${PORT}, protocol: TCP}]
endpoints: [{addresses: ["${SERVICE_IP}"], conditions: {ready: true}}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1.example.com}
spec:
  group: example.com
  version: v1
  service: {namespace: default, name: ext, port: ${PORT}}
  caBundle: ${caBundle}
  groupPriorityMinimum: 1000
  versionPriority: 15
`;

describe('the aggregation layer', () => {
  it('lists the built-in group versions as Local APIServices', async () => {
    const table = await api.kubectl('get', 'apiservices');
    expect(table).toMatch(/^v1\.apps\s+Local\s+True\s/m);
    expect(table).toMatch(/^v1\.\s+Local\s+True\s/m);
  });

  it("passes a group version's requests to its extension server, saying who the user is, once it is available", async () => {
    const applied = await api.kubectlResult(['apply', '-f', '-'], MANIFEST());
    expect(applied.code, applied.stderr).toBe(0);
    await expect
      .poll(() => api.kubectl('get', 'apiservice', 'v1.example.com', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].reason}'), { timeout: 15_000 })
      .toBe('Passed');
    expect(await api.kubectl('get', 'apiservices', 'v1.example.com')).toMatch(/v1\.example\.com\s+default\/ext\s+True\s/);
    // discovery finds the remote kind (by its short name too); the list comes from the extension server, for the user we authenticated
    expect(await api.kubectl('api-resources', '--api-group=example.com', '--no-headers')).toMatch(/^widgets\s+wd\s+example\.com\/v1\s+true\s+Widget$/m);
    expect((await api.kubectl('get', 'wd', '-n', 'default', '-o', 'name')).trim()).toBe('widget.example.com/for-skiff-admin');
    const listed = asked.filter((a) => a.startsWith('GET /apis/example.com/v1/namespaces/default/widgets'));
    expect(listed.at(-1)).toBe('GET /apis/example.com/v1/namespaces/default/widgets?limit=500 skiff-admin system:masters,system:authenticated ');
  });

  it("serves the extension server's OpenAPI document for its group version, so kubectl explain finds its kinds", async () => {
    const index = JSON.parse(await api.kubectl('get', '--raw', '/openapi/v3')) as { paths: Record<string, { serverRelativeURL: string }> };
    expect(index.paths['apis/example.com/v1']?.serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/example\.com\/v1\?hash=[0-9A-F]{32}$/);
    expect(index.paths['apis/apps/v1']).toBeDefined();
    expect(await api.kubectl('explain', 'widgets')).toContain('A Widget is served by the extension API server of this test.');
  });

  it('decides authorization here first, and never passes the client credentials on', async () => {
    const before = asked.length;
    const refused = await api.kubectlResult(['get', 'widgets', '-n', 'default', '--as=mallory']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      'widgets.example.com is forbidden: User "mallory" cannot list resource "widgets" in API group "example.com" in the namespace "default"',
    );
    expect(asked.slice(before).some((a) => a.includes('/widgets'))).toBe(false);
    expect(asked.every((a) => a.endsWith(' '))).toBe(true);
  });

  it('answers 503 while the extension server has no endpoints, and says why in the condition', async () => {
    await api.kubectl('delete', 'endpointslice', 'ext-1', '-n', 'default');
    await expect
      .poll(() => api.kubectl('get', 'apiservice', 'v1.example.com', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].message}'), {
        timeout: 45_000,
      })
      .toBe('endpoints for service/ext in "default" have no addresses with port name "https"');
    const unavailable = await api.kubectlResult(['get', '--raw', '/apis/example.com/v1/namespaces/default/widgets']);
    expect(unavailable.code).not.toBe(0);
    expect(unavailable.stderr).toContain('service unavailable');
  });

  it('refuses an APIService whose name, priorities or TLS settings are wrong', async () => {
    const r = await api.kubectlResult(
      ['apply', '-f', '-'],
      `apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v2.wrong.example.com}
spec:
  group: example.com
  version: v1
  service: {namespace: default, name: ext}
  caBundle: ${caBundle}
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 0
  versionPriority: 15
`,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('metadata.name: Invalid value: "v2.wrong.example.com": must be `spec.version+"."+spec.group`');
    expect(r.stderr).toContain('spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000');
    expect(r.stderr).toContain('spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is present');
  });
});
