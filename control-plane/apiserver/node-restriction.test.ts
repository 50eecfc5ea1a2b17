import { describe, expect, it } from 'vitest';
import type { UserInfo } from '../auth/index.ts';
import { admitNodeRestriction, type NodeWrite } from './node-restriction.ts';
import type { Obj } from './resource-info.ts';

const n1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const mirror = (extra: { spec?: Record<string, unknown>; metadata?: Record<string, unknown> } = {}): Obj => ({
  metadata: {
    name: 'static-web-n1',
    namespace: 'default',
    annotations: { 'kubernetes.io/config.mirror': 'abc' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u' }],
    ...extra.metadata,
  },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }], ...extra.spec },
});
const podOn = (node: string): Obj => ({ metadata: { name: 'p', namespace: 'default', uid: 'pod-uid' }, spec: { nodeName: node, containers: [] } });
const admit =
  (w: Omit<NodeWrite, 'user'>, user = n1) =>
  () =>
    admitNodeRestriction({ ...w, user });

describe('NodeRestriction admission', () => {
  it('lets a node create its own mirror pods, and nothing else', () => {
    expect(admit({ operation: 'create', resource: 'pods', obj: mirror() })).not.toThrow();
    expect(admit({ operation: 'create', resource: 'pods', obj: { ...mirror(), metadata: { name: 'x', namespace: 'default' } } })).toThrow(
      'pods "x" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods',
    );
    expect(admit({ operation: 'create', resource: 'pods', obj: mirror({ spec: { nodeName: 'n2' } }) })).toThrow(
      'node "n1" can only create pods with spec.nodeName set to itself',
    );
    expect(admit({ operation: 'create', resource: 'pods', obj: mirror({ spec: { volumes: [{ name: 'k', secret: { secretName: 'ca-key' } }] } }) })).toThrow(
      'node "n1" can not create pods that reference secrets',
    );
    expect(
      admit({
        operation: 'create',
        resource: 'pods',
        obj: mirror({ spec: { containers: [{ name: 'c', image: 'b', envFrom: [{ configMapRef: { name: 'x' } }] }] } }),
      }),
    ).toThrow('node "n1" can not create pods that reference configmaps');
    expect(admit({ operation: 'create', resource: 'pods', obj: mirror({ spec: { serviceAccountName: 'admin' } }) })).toThrow(
      'node "n1" can not create pods that use service accounts',
    );
    expect(
      admit({
        operation: 'create',
        resource: 'pods',
        obj: mirror({ metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'x' }] } }),
      }),
    ).toThrow('node "n1" can only create pods with a single owner reference set to itself');
  });

  it("refuses a node deleting, evicting or reporting on another node's pods", () => {
    expect(admit({ operation: 'delete', resource: 'pods', name: 'p', old: podOn('n2') })).toThrow(
      'pods "p" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself',
    );
    expect(admit({ operation: 'create', resource: 'pods', subresource: 'eviction', name: 'p', old: podOn('n2') })).toThrow(
      'node "n1" can only evict pods with spec.nodeName set to itself',
    );
    expect(admit({ operation: 'update', resource: 'pods', subresource: 'status', name: 'p', obj: podOn('n2'), old: podOn('n2') })).toThrow(
      'node "n1" can only update pod status for pods with spec.nodeName set to itself',
    );
    expect(admit({ operation: 'delete', resource: 'pods', name: 'p', old: podOn('n1') })).not.toThrow();
    expect(admit({ operation: 'update', resource: 'pods', subresource: 'status', name: 'p', obj: podOn('n1'), old: podOn('n1') })).not.toThrow();
  });

  it('keeps a node to its own Node, without node-restriction labels, and its own Lease', () => {
    const node = (name: string, labels: Record<string, string> = {}): Obj => ({ metadata: { name, labels } });
    expect(admit({ operation: 'update', resource: 'nodes', name: 'n2', obj: node('n2'), old: node('n2') })).toThrow(
      'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"',
    );
    expect(admit({ operation: 'create', resource: 'nodes', obj: node('n1', { 'node-restriction.kubernetes.io/trusted': 'yes' }) })).toThrow(
      'nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/trusted',
    );
    expect(
      admit({ operation: 'update', resource: 'nodes', name: 'n1', obj: node('n1', { 'kubernetes.io/hostname': 'n1', a: 'b' }), old: node('n1') }),
    ).not.toThrow();
    expect(admit({ operation: 'create', resource: 'leases.coordination.k8s.io', obj: node('n2') })).toThrow(
      'can only access node lease with the same name as the requesting node',
    );
  });

  it('gives a node tokens only bound to its own pods', () => {
    const request = (boundObjectRef?: Record<string, string>) =>
      ({ metadata: {}, spec: { audiences: ['x'], ...(boundObjectRef ? { boundObjectRef } : {}) } }) as Obj;
    expect(admit({ operation: 'create', resource: 'serviceaccounts', subresource: 'token', name: 'default', obj: request() })).toThrow(
      'node requested token not bound to a pod',
    );
    expect(
      admit({
        operation: 'create',
        resource: 'serviceaccounts',
        subresource: 'token',
        name: 'default',
        obj: request({ kind: 'Pod', name: 'p', uid: 'pod-uid' }),
        old: podOn('n2'),
      }),
    ).toThrow('node requested token bound to a pod scheduled on a different node');
    expect(
      admit({
        operation: 'create',
        resource: 'serviceaccounts',
        subresource: 'token',
        name: 'default',
        obj: request({ kind: 'Pod', name: 'p', uid: 'pod-uid' }),
        old: podOn('n1'),
      }),
    ).not.toThrow();
  });

  it('leaves users who are not nodes alone', () => {
    expect(admit({ operation: 'create', resource: 'pods', obj: podOn('n2') }, { name: 'alice', groups: ['system:authenticated'] })).not.toThrow();
  });
});
