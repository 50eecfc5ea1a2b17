import { describe, expect, it } from 'vitest';
import { resourceCatalog } from './catalog.ts';
import { aggregatedDiscovery, wantsAggregatedDiscovery } from './discovery.ts';
import { NodePortRange, ServiceIpRange } from './resources/services.ts';

const catalog = resourceCatalog(new ServiceIpRange('10.96.0.0/12'), new NodePortRange());

describe('aggregated discovery', () => {
  it('is served to clients that ask for apidiscovery.k8s.io/v2', () => {
    expect(
      wantsAggregatedDiscovery(
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
      ),
    ).toBe(true);
    expect(wantsAggregatedDiscovery('application/json')).toBe(false);
    expect(wantsAggregatedDiscovery(undefined)).toBe(false);
  });

  it('lists every group with its resources, kinds, scope, verbs and subresources', () => {
    const apis = aggregatedDiscovery(catalog, false);
    expect(apis).toMatchObject({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2' });
    const apps = apis.items.find((g) => g.metadata.name === 'apps');
    const deployments = apps?.versions[0]?.resources.find((r) => r.resource === 'deployments');
    expect(deployments).toMatchObject({
      responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      scope: 'Namespaced',
      singularResource: 'deployment',
      shortNames: ['deploy'],
    });
    expect(deployments?.subresources).toContainEqual({
      subresource: 'scale',
      responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      verbs: ['get', 'patch', 'update'],
    });
    const core = aggregatedDiscovery(catalog, true);
    expect(core.items).toHaveLength(1);
    expect(core.items[0]?.metadata).toEqual({});
    expect(core.items[0]?.versions[0]?.resources.find((r) => r.resource === 'nodes')).toMatchObject({
      scope: 'Cluster',
      responseKind: { group: '', version: 'v1', kind: 'Node' },
    });
  });
});
