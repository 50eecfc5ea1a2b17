import { describe, expect, it } from 'vitest';
import type { WebhookAttributes } from './dispatcher.ts';
import { selectorsMatch } from './selectors.ts';

const labelled = (labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels } });

/** A write to a ConfigMap in namespace "team" labelled env=prod; counts its namespace reads. */
function write(overrides: Partial<WebhookAttributes> = {}) {
  let namespaceReads = 0;
  const a: WebhookAttributes = {
    operation: 'CREATE',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    subresource: '',
    kind: 'ConfigMap',
    namespaced: true,
    name: 'x',
    namespace: 'team',
    object: labelled({ app: 'web' }),
    user: { name: 'alice', uid: '', groups: [] },
    dryRun: false,
    namespaceLabels: async () => {
      namespaceReads++;
      return { env: 'prod' };
    },
    ...overrides,
  };
  return { a, reads: () => namespaceReads };
}

describe('selectorsMatch', () => {
  it('takes every write under selectors without requirements, reading no namespace', async () => {
    const { a, reads } = write();
    expect(await selectorsMatch({}, a)).toBe(true);
    expect(await selectorsMatch({ objectSelector: {}, namespaceSelector: { matchLabels: {} } }, a)).toBe(true);
    expect(reads()).toBe(0);
  });

  it('takes a write whose new or old object the object selector matches', async () => {
    const sel = { objectSelector: { matchLabels: { app: 'web' } } };
    expect(await selectorsMatch(sel, write().a)).toBe(true);
    expect(await selectorsMatch(sel, write({ operation: 'UPDATE', object: labelled({}), oldObject: labelled({ app: 'web' }) }).a)).toBe(true);
    expect(await selectorsMatch(sel, write({ object: labelled({ app: 'db' }) }).a)).toBe(false);
  });

  it('never takes a write without an object under an object selector with requirements', async () => {
    const connect = write({ operation: 'CONNECT', object: undefined }).a;
    expect(await selectorsMatch({ objectSelector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] } }, connect)).toBe(false);
    expect(await selectorsMatch({ objectSelector: {} }, connect)).toBe(true);
  });

  it("judges a namespaced write by its namespace's labels", async () => {
    const { a, reads } = write();
    expect(await selectorsMatch({ namespaceSelector: { matchLabels: { env: 'prod' } } }, a)).toBe(true);
    expect(await selectorsMatch({ namespaceSelector: { matchLabels: { env: 'dev' } } }, a)).toBe(false);
    expect(reads()).toBe(2);
  });

  it('judges a Namespace by its own labels and passes other cluster-scoped writes', async () => {
    const sel = { namespaceSelector: { matchLabels: { env: 'dev' } } };
    const namespace = { group: '', resource: 'namespaces', kind: 'Namespace', namespaced: false, namespace: '' };
    expect(await selectorsMatch(sel, write({ ...namespace, object: labelled({ env: 'dev' }) }).a)).toBe(true);
    expect(await selectorsMatch(sel, write({ ...namespace, object: labelled({ env: 'prod' }) }).a)).toBe(false);
    const { a, reads } = write({ group: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespaced: false, namespace: '' });
    expect(await selectorsMatch(sel, a)).toBe(true);
    expect(reads()).toBe(0);
  });
});
