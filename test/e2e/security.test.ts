// The cluster probed as an attacker would, with the real kubectl: a user
// bound to `view`, a node's own certificate, a second node, a user allowed
// to approve CSRs but not for any signer, a namespace admin, and anonymous.
// Each attempt is refused with kube-apiserver's code and words; each
// legitimate use next to it still works.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeKubeconfig } from '../../apimachinery/index.ts';
import { issueFromClusterCa } from '../../control-plane/index.ts';
import { anonymousGet, kubectlFor, type Kubectl } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';
import { certificateRequest } from '../harness/index.ts';

const api = useTestApiServer(
  'sk-sec-',
  (dir) => ['--token-auth-file', join(dir, 'tokens.csv'), '--disable-scheduler'],
  (dir) => writeFile(join(dir, 'tokens.csv'), 'viewer-token,viewer,2001,\napprover-token,approver,2002,\nnsadmin-token,nsadmin,2003,\n'),
);

/** kubectl as node `name` (its own client certificate from the cluster CA, as the agent has). */
async function asNode(name: string): Promise<Kubectl> {
  const { ca, pair } = await issueFromClusterCa(api.pkiDir, { commonName: `system:node:${name}`, organizations: ['system:nodes'], usage: 'client' });
  const path = join(api.dir, `${name}.kubeconfig`);
  await writeKubeconfig(path, { server: `https://127.0.0.1:${api.port}`, ca, cert: pair.cert, key: pair.key }, { user: name });
  return kubectlFor(path);
}

/** Runs kubectl expecting a refusal; resolves with its stderr. */
async function refused(k: Kubectl, args: string[], input?: string): Promise<string> {
  const r = await k.kubectlResult(args, input);
  expect(r.code, `kubectl ${args.join(' ')} should have been refused`).not.toBe(0);
  return r.stderr.trim();
}

const forged = (start: string) => Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start })).toString('base64url');

let viewer: Kubectl;
let approver: Kubectl;
let nsadmin: Kubectl;
let nodeA: Kubectl;

beforeAll(async () => {
  viewer = await api.withToken('viewer-token', 'viewer');
  approver = await api.withToken('approver-token', 'approver');
  nsadmin = await api.withToken('nsadmin-token', 'nsadmin');
  nodeA = await asNode('node-a');
  const setup = await api.kubectlResult(
    ['apply', '-f', '-'],
    `
{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: viewer-view}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}, subjects: [{kind: User, name: viewer}]}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: csr-approver}, rules: [{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [get, list, create]}, {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update, patch]}]}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: approver}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csr-approver}, subjects: [{kind: User, name: approver}]}
---
{apiVersion: v1, kind: Namespace, metadata: {name: team}}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: nsadmin, namespace: team}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}, subjects: [{kind: User, name: nsadmin}]}
---
{apiVersion: v1, kind: Node, metadata: {name: node-a}}
---
{apiVersion: v1, kind: Node, metadata: {name: node-b}}
---
{apiVersion: v1, kind: Secret, metadata: {name: a-secret}, stringData: {k: a}}
---
{apiVersion: v1, kind: Secret, metadata: {name: b-secret}, stringData: {k: b}}
---
{apiVersion: v1, kind: ServiceAccount, metadata: {name: b-sa}}
---
{apiVersion: v1, kind: Pod, metadata: {name: on-a}, spec: {nodeName: node-a, containers: [{name: c, image: busybox, env: [{name: K, valueFrom: {secretKeyRef: {name: a-secret, key: k}}}]}]}}
---
{apiVersion: v1, kind: Pod, metadata: {name: on-b}, spec: {nodeName: node-b, serviceAccountName: b-sa, volumes: [{name: s, secret: {secretName: b-secret}}], containers: [{name: c, image: busybox}]}}
`,
  );
  expect(setup.code, setup.stderr).toBe(0);
});

describe('a user bound to view', () => {
  it('reads what view grants and no Secret, not even through a forged continue token', async () => {
    expect(await viewer.kubectl('get', 'pods', '-o', 'name')).toContain('pod/on-a');
    expect(await refused(viewer, ['get', 'secrets'])).toBe(
      'Error from server (Forbidden): secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" in the namespace "default"',
    );
    expect(await refused(viewer, ['get', '--raw', `/api/v1/services?limit=1&continue=${forged('../secrets/default/a-secret')}`])).toContain(
      'invalid continue token: continue key is not valid: ../secrets/default/a-secret',
    );
    const sideways = await viewer.kubectl('get', '--raw', `/api/v1/namespaces/default/configmaps?limit=50&continue=${forged('zz')}`);
    expect(sideways).not.toContain('Secret');
    expect(await refused(viewer, ['exec', 'on-a', '--', 'true'])).toContain(
      'User "viewer" cannot create resource "pods/exec" in API group "" in the namespace "default"',
    );
  });
});

describe('a node', () => {
  it('reads the Secrets its own pods use, and nothing of another node', async () => {
    expect(await nodeA.kubectl('get', 'secret', 'a-secret', '-o', 'jsonpath={.data.k}')).toBe(Buffer.from('a').toString('base64'));
    expect(await nodeA.kubectl('get', 'secrets', '--field-selector', 'metadata.name=a-secret', '-o', 'name')).toBe('secret/a-secret\n');
    expect(await refused(nodeA, ['get', 'secret', 'b-secret'])).toBe(
      `Error from server (Forbidden): secrets "b-secret" is forbidden: User "system:node:node-a" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'node-a' and this object`,
    );
    expect(await refused(nodeA, ['get', 'secrets', '-A'])).toContain(
      'User "system:node:node-a" cannot list resource "secrets" in API group "" at the cluster scope',
    );
    expect(await refused(nodeA, ['get', 'clusterroles'])).toContain('cannot list resource "clusterroles"');
  });

  it('writes only its own Node and pods, and makes only mirror pods that reference nothing', async () => {
    expect(await nodeA.kubectl('label', 'node', 'node-a', 'skiff.dev/agent=yes')).toContain('node/node-a labeled');
    expect(await refused(nodeA, ['label', 'node', 'node-b', 'skiff.dev/agent=yes'])).toContain(
      'cannot patch resource "nodes" in API group "" at the cluster scope: can only update or patch its own Node',
    );
    expect(await refused(nodeA, ['label', 'node', 'node-a', 'node-restriction.kubernetes.io/trusted=yes'])).toBe(
      'Error from server (Forbidden): nodes "node-a" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/trusted',
    );
    expect(await refused(nodeA, ['delete', 'pod', 'on-b'])).toBe(
      'Error from server (Forbidden): pods "on-b" is forbidden: node "node-a" can only delete pods with spec.nodeName set to itself',
    );
    expect(
      await refused(
        nodeA,
        ['apply', '-f', '-'],
        '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"sneaky"},"spec":{"nodeName":"node-a","containers":[{"name":"c","image":"busybox"}],"volumes":[{"name":"k","secret":{"secretName":"b-secret"}}]}}',
      ),
    ).toContain('pods "sneaky" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "node-a" can only create mirror pods');
    expect(
      await refused(
        nodeA,
        ['apply', '-f', '-'],
        '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"sneaky","annotations":{"kubernetes.io/config.mirror":"x"}},"spec":{"nodeName":"node-a","containers":[{"name":"c","image":"busybox"}],"volumes":[{"name":"k","secret":{"secretName":"b-secret"}}]}}',
      ),
    ).toContain('node "node-a" can not create pods that reference secrets');
    const mirror = await nodeA.kubectlResult(
      ['create', '-f', '-'],
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"static-web-node-a","annotations":{"kubernetes.io/config.mirror":"x"}},"spec":{"nodeName":"node-a","containers":[{"name":"c","image":"busybox"}]}}',
    );
    expect(mirror.stdout, mirror.stderr).toContain('pod/static-web-node-a created');
  });

  it("gets tokens only bound to its own pods' service accounts", async () => {
    const onB = JSON.parse(await api.kubectl('get', 'pod', 'on-b', '-o', 'json')) as { metadata: { uid: string } };
    const body = JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'on-b', uid: onB.metadata.uid } },
    });
    const path = join(api.dir, 'token-request.json');
    await writeFile(path, body);
    expect(await refused(nodeA, ['create', '--raw', '/api/v1/namespaces/default/serviceaccounts/b-sa/token', '-f', path])).toContain(
      `no relationship found between node 'node-a' and this object`,
    );
    const nodeB = await asNode('node-b');
    const token = JSON.parse(await nodeB.kubectl('create', '--raw', '/api/v1/namespaces/default/serviceaccounts/b-sa/token', '-f', path)) as {
      status: { token: string };
    };
    expect(token.status.token.split('.')).toHaveLength(3);
  });
});

describe('certificate signing requests', () => {
  const request = (subject: string) => certificateRequest({ keyFile: join(api.dir, 'req.key'), requestFile: join(api.dir, 'req.csr'), subject });
  const csr = (name: string, req: string, signerName: string) =>
    JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name },
      spec: { request: req, signerName, usages: ['client auth'] },
    });

  it('never issues a system:masters client certificate, nor lets an approver approve for a signer it may not', async () => {
    expect(
      await refused(approver, ['create', '-f', '-'], csr('root', await request('/O=system:masters/CN=mallory'), 'kubernetes.io/kube-apiserver-client')),
    ).toBe(
      'Error from server (Forbidden): error when creating "STDIN": certificatesigningrequests.certificates.k8s.io "root" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed',
    );
    expect(
      (await approver.kubectlResult(['create', '-f', '-'], csr('mine', await request('/O=developers/CN=approver'), 'kubernetes.io/kube-apiserver-client')))
        .code,
    ).toBe(0);
    expect(await refused(approver, ['certificate', 'approve', 'mine'])).toContain(
      'certificatesigningrequests.certificates.k8s.io "mine" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client"',
    );
    expect(await api.kubectl('get', 'csr', 'mine', '-o', 'jsonpath={.status.conditions}')).toBe('');
    // a request that is no certificate request at all: invalid, whatever its signer
    expect(await refused(approver, ['create', '-f', '-'], csr('junk', Buffer.from('not a request').toString('base64'), 'example.com/any'))).toBe(
      'The CertificateSigningRequest "junk" is invalid: spec.request: Invalid value: []byte{...}: PEM block type must be CERTIFICATE REQUEST',
    );
  });

  it("refuses to sign a kubelet client request that does not name a node, and keeps a request's spec as made", async () => {
    await api.kubectlResult(
      ['create', '-f', '-'],
      csr('fake-node', await request('/O=system:masters/CN=system:node:x'), 'kubernetes.io/kube-apiserver-client-kubelet'),
    );
    await api.kubectl(
      'patch',
      'csr',
      'fake-node',
      '--type=merge',
      '-p',
      '{"spec":{"username":"system:node:x","signerName":"kubernetes.io/kube-apiserver-client"}}',
    );
    expect(await api.kubectl('get', 'csr', 'fake-node', '-o', 'jsonpath={.spec.signerName} {.spec.username}')).toBe(
      'kubernetes.io/kube-apiserver-client-kubelet skiff-admin',
    );
    await api.kubectl('certificate', 'approve', 'fake-node');
    await expect
      .poll(() => api.kubectl('get', 'csr', 'fake-node', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].message}'), { timeout: 20_000 })
      .toBe('subject organization is not system:nodes');
    expect(await api.kubectl('get', 'csr', 'fake-node', '-o', 'jsonpath={.status.certificate}')).toBe('');
  });
});

describe('a namespace admin and anonymous', () => {
  it('keeps a namespace admin to its namespace', async () => {
    expect(await nsadmin.kubectl('create', 'secret', 'generic', 'mine', '-n', 'team', '--from-literal=a=b')).toContain('secret/mine created');
    expect(await refused(nsadmin, ['get', 'secret', 'a-secret', '-n', 'default'])).toContain(
      'User "nsadmin" cannot get resource "secrets" in API group "" in the namespace "default"',
    );
    expect(await refused(nsadmin, ['create', 'clusterrolebinding', 'up', '--clusterrole=cluster-admin', '--user=nsadmin'])).toContain(
      'cannot create resource "clusterrolebindings"',
    );
  });

  it("gives a namespace admin a custom resource's role labelled into edit, and a viewer nothing of it", async () => {
    await api.kubectlResult(
      ['apply', '-f', '-'],
      `
{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: widgets.example.com}, spec: {group: example.com, scope: Namespaced, names: {plural: widgets, singular: widget, kind: Widget}, versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]}}
---
{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: widgets-edit, labels: {rbac.authorization.k8s.io/aggregate-to-edit: "true"}}, rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get, list, watch, create, update, patch, delete]}]}
`,
    );
    await api.kubectl('wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s');
    const widget = '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace":"team"}}';
    await expect
      .poll(async () => (await nsadmin.kubectlResult(['create', '-f', '-'], widget)).stdout, { timeout: 20_000 })
      .toContain('widget.example.com/w1 created');
    expect(await api.kubectl('get', 'clusterrole', 'admin', '-o', 'jsonpath={.rules[*].apiGroups}')).toContain('example.com');
    expect(await refused(viewer, ['get', 'widgets', '-n', 'team'])).toContain(
      'User "viewer" cannot list resource "widgets" in API group "example.com" in the namespace "team"',
    );
  });

  it('lets anonymous see only health and version', async () => {
    expect(await anonymousGet(api.port, '/readyz')).toEqual({ status: 200, body: 'ok' });
    expect(await anonymousGet(api.port, '/version')).toMatchObject({ status: 200 });
    // anywhere else a request without credentials is refused before RBAC is asked
    expect(await anonymousGet(api.port, '/api/v1/namespaces/default/secrets')).toMatchObject({
      status: 401,
      body: expect.stringContaining('"reason":"Unauthorized"'),
    });
    expect(await anonymousGet(api.port, '/readyz/etcd')).toMatchObject({ status: 401 });
    expect(await anonymousGet(api.port, '/metrics')).toMatchObject({ status: 401 });
  });
});
