import { describe, expect, it } from 'vitest';
import { parseApiVersion, resourcePath } from './resource-path.ts';

describe('parseApiVersion', () => {
  it('splits a named group from its version and gives the core group as empty', () => {
    expect(parseApiVersion('rbac.authorization.k8s.io/v1')).toEqual({ group: 'rbac.authorization.k8s.io', version: 'v1' });
    expect(parseApiVersion('v1')).toEqual({ group: '', version: 'v1' });
  });

  it('gives back what resourcePath addresses', () => {
    const { group, version } = parseApiVersion('apps/v1');
    expect(resourcePath({ group, version, resource: 'deployments', namespace: 'default' })).toBe('/apis/apps/v1/namespaces/default/deployments');
  });
});
