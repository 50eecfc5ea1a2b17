import { describe, expect, it } from 'vitest';
import type { Obj } from '../api/index.ts';
import { NodeAuthorizer } from './node-authorizer.ts';
import type { ObjectCache } from './object-cache.ts';
import type { RequestAttributes, UserInfo } from './types.ts';

const pod = (name: string, node: string, spec: Record<string, unknown> = {}): Obj => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }], ...spec },
});
const pods: Obj[] = [
  pod('web', 'n1', {
    serviceAccountName: 'web-sa',
    volumes: [
      { name: 'cfg', configMap: { name: 'web-config' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'web-data' } },
      { name: 'tls', projected: { sources: [{ secret: { name: 'web-tls' } }] } },
    ],
    containers: [{ name: 'c', image: 'busybox', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'web-password', key: 'p' } } }] }],
    imagePullSecrets: [{ name: 'regcred' }],
  }),
  pod('db', 'n2', { volumes: [{ name: 's', secret: { secretName: 'db-root' } }] }),
];
const claims: Record<string, Obj> = { 'default/web-data': { metadata: { name: 'web-data', namespace: 'default' }, spec: { volumeName: 'pv-1' } } };
const byNode = { indexed: (node: string) => pods.filter((p) => (p.spec as { nodeName: string }).nodeName === node).values() } as unknown as ObjectCache;
const claimCache = { get: (ns: string, name: string) => claims[`${ns}/${name}`] } as unknown as ObjectCache;
const authz = new NodeAuthorizer(byNode, claimCache);

const n1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const res = (verb: string, resource: string, o: { name?: string; namespace?: string; group?: string; subresource?: string } = {}): RequestAttributes => ({
  kind: 'resource',
  verb,
  apiGroup: o.group ?? '',
  resource,
  subresource: o.subresource,
  namespace: o.namespace,
  name: o.name,
});

describe('Node authorizer', () => {
  it('lets a node read what its own pods reference', () => {
    for (const a of [
      res('get', 'secrets', { namespace: 'default', name: 'web-tls' }),
      res('watch', 'secrets', { namespace: 'default', name: 'web-password' }),
      res('list', 'secrets', { namespace: 'default', name: 'regcred' }),
      res('get', 'configmaps', { namespace: 'default', name: 'web-config' }),
      res('get', 'persistentvolumeclaims', { namespace: 'default', name: 'web-data' }),
      res('get', 'persistentvolumes', { name: 'pv-1' }),
      res('get', 'serviceaccounts', { namespace: 'default', name: 'web-sa' }),
      res('create', 'serviceaccounts', { namespace: 'default', name: 'web-sa', subresource: 'token' }),
    ])
      expect(authz.authorize(n1, a), JSON.stringify(a)).toMatchObject({ allowed: true });
  });

  it("refuses another node's secrets, any list of secrets, and what no pod of the node references", () => {
    const refused = (a: RequestAttributes) => authz.authorize(n1, a);
    expect(refused(res('get', 'secrets', { namespace: 'default', name: 'db-root' }))).toEqual({
      allowed: false,
      reason: "no relationship found between node 'n1' and this object",
    });
    expect(refused(res('list', 'secrets', { namespace: 'default' }))).toEqual({ allowed: false, reason: 'No Object name found' });
    expect(refused(res('list', 'secrets', {}))).toEqual({ allowed: false, reason: 'can only read namespaced object of this type' });
    expect(refused(res('delete', 'secrets', { namespace: 'default', name: 'web-tls' }))).toEqual({
      allowed: false,
      reason: 'can only read resources of this type',
    });
    expect(refused(res('get', 'secrets', { namespace: 'kube-system', name: 'web-tls' })).allowed).toBe(false);
    expect(refused(res('list', 'persistentvolumeclaims', { namespace: 'default' }))).toEqual({
      allowed: false,
      reason: 'can only get individual resources of this type',
    });
    expect(refused(res('get', 'persistentvolumes', { name: 'pv-2' })).allowed).toBe(false);
    expect(refused(res('create', 'serviceaccounts', { namespace: 'default', name: 'default', subresource: 'token' })).allowed).toBe(false);
    expect(refused(res('get', 'clusterroles', { group: 'rbac.authorization.k8s.io', name: 'cluster-admin' }))).toEqual({ allowed: false, reason: '' });
  });

  it('lets a node write only its own Node, Lease and CSINode', () => {
    expect(authz.authorize(n1, res('patch', 'nodes', { name: 'n1', subresource: 'status' })).allowed).toBe(true);
    expect(authz.authorize(n1, res('patch', 'nodes', { name: 'n2', subresource: 'status' })).allowed).toBe(false);
    expect(authz.authorize(n1, res('delete', 'nodes', { name: 'n2' })).allowed).toBe(false);
    expect(authz.authorize(n1, res('update', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'n1' })).allowed).toBe(true);
    expect(authz.authorize(n1, res('update', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'n2' }))).toEqual({
      allowed: false,
      reason: 'can only access node lease with the same name as the requesting node',
    });
    expect(authz.authorize(n1, res('update', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-system', name: 'kube-scheduler' })).allowed).toBe(
      false,
    );
    expect(authz.authorize(n1, res('update', 'csinodes', { group: 'storage.k8s.io', name: 'n2' })).allowed).toBe(false);
  });

  it('has no opinion on users who are not nodes, or who only claim the name', () => {
    expect(authz.authorize({ name: 'alice', groups: ['system:authenticated'] }, res('get', 'secrets', { namespace: 'default', name: 'web-tls' }))).toEqual({
      allowed: false,
      reason: '',
    });
    expect(
      authz.authorize({ name: 'system:node:n1', groups: ['system:authenticated'] }, res('get', 'secrets', { namespace: 'default', name: 'web-tls' })),
    ).toEqual({ allowed: false, reason: '' });
  });
});
