import type { Namespace } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { ApiError, silentLogger } from '../../apimachinery/index.ts';
import type { ControllerContext } from './context.ts';
import { NamespaceController } from './namespace.ts';

describe('namespace controller', () => {
  it('empties a deleted namespace whose custom resources go away meanwhile (their 404s are nothing left), and lets it go', async () => {
    const ns: Namespace = { metadata: { name: 'team', deletionTimestamp: '2026-01-01T00:00:00Z' }, spec: { finalizers: ['kubernetes'] } };
    const requests: string[] = [];
    const gone = () => Promise.reject(new ApiError('NotFound', 'the server could not find the requested resource'));
    const client = {
      request: async (method: string, path: string) => {
        requests.push(`${method} ${path}`);
        if (path === '/apis')
          return { groups: [{ preferredVersion: { groupVersion: 'widgets.example.com/v1' } }, { preferredVersion: { groupVersion: 'apps/v1' } }] };
        // the CRD went between /apis and its group version
        if (path === '/apis/widgets.example.com/v1') return gone();
        if (path === '/api/v1') return { groupVersion: 'v1', resources: [{ name: 'configmaps', namespaced: true, verbs: ['list', 'deletecollection'] }] };
        if (path === '/apis/apps/v1')
          return { groupVersion: 'apps/v1', resources: [{ name: 'deployments', namespaced: true, verbs: ['list', 'deletecollection'] }] };
        // and a collection that goes while it is listed
        if (path.endsWith('/deployments')) return gone();
        return { items: [] };
      },
      update: async (ref: { subresource?: string }) => void requests.push(`finalize ${ref.subresource}`),
    };
    const ctx = {
      client,
      informers: { for: () => ({ get: () => ns, list: () => [ns], hasSynced: async () => {}, addHandlers: () => {} }) },
      events: { event: () => {} },
      log: silentLogger,
    } as unknown as ControllerContext;
    expect(await new NamespaceController(ctx).sync('team')).toBeUndefined();
    expect(requests).toContain('GET /api/v1/namespaces/team/configmaps');
    expect(requests.at(-1)).toBe('finalize finalize');
  });
});
