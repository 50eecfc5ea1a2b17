import { describe, expect, it } from 'vitest';
import { parseResourcePath } from './index.ts';

describe('request info', () => {
  it('reads namespaced resources, subresources and the namespace object itself', () => {
    expect(parseResourcePath('/api/v1/namespaces/default/pods/web/log')).toEqual({
      group: '',
      version: 'v1',
      namespace: 'default',
      resource: 'pods',
      name: 'web',
      subresource: 'log',
    });
    expect(parseResourcePath('/apis/apps/v1/namespaces/team/deployments')).toMatchObject({
      group: 'apps',
      namespace: 'team',
      resource: 'deployments',
      name: undefined,
    });
    expect(parseResourcePath('/api/v1/namespaces/team')).toMatchObject({ namespace: undefined, resource: 'namespaces', name: 'team' });
    for (const sub of ['status', 'finalize']) {
      expect(parseResourcePath(`/api/v1/namespaces/team/${sub}`)).toMatchObject({
        namespace: undefined,
        resource: 'namespaces',
        name: 'team',
        subresource: sub,
      });
    }
  });

  it('keeps the kubelet path of nodes/{name}/proxy, and refuses extra segments elsewhere', () => {
    expect(parseResourcePath('/api/v1/nodes/n1/proxy/stats/summary')).toEqual({
      group: '',
      version: 'v1',
      resource: 'nodes',
      name: 'n1',
      subresource: 'proxy',
      proxyPath: 'stats/summary',
    });
    expect(parseResourcePath('/api/v1/namespaces/default/pods/web/log/extra')).toBeNull();
  });
});
