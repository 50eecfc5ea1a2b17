import { describe, expect, it } from 'vitest';
import { compareVersionPriority, servedVersions, storageVersion, type CrdSpec } from './custom-resource-definitions.ts';

describe('custom resource definition versions', () => {
  it('orders versions as Kubernetes prefers them: GA, then beta, then alpha, newest first, other names last', () => {
    expect(['v1alpha1', 'foo', 'v1beta1', 'v2', 'v1', 'v11alpha2', 'v1beta2', 'bar', 'v10'].sort(compareVersionPriority))
      .toEqual(['v10', 'v2', 'v1', 'v1beta2', 'v1beta1', 'v11alpha2', 'v1alpha1', 'bar', 'foo']);
  });

  it('serves only served versions; the stored one need not be served', () => {
    const spec = { versions: [{ name: 'v1alpha1', served: true, storage: false }, { name: 'v1', served: false, storage: true }, { name: 'v1beta1', served: true, storage: false }] } as CrdSpec;
    expect(servedVersions(spec).map((v) => v.name)).toEqual(['v1beta1', 'v1alpha1']);
    expect(storageVersion(spec)?.name).toBe('v1');
  });

  it('serves only the storage version of a definition that wants a conversion webhook', () => {
    const versions = [{ name: 'v1', served: true, storage: true }, { name: 'v1beta1', served: true, storage: false }];
    expect(servedVersions({ versions, conversion: { strategy: 'Webhook' } } as CrdSpec).map((v) => v.name)).toEqual(['v1']);
    expect(servedVersions({ versions, conversion: { strategy: 'None' } } as CrdSpec).map((v) => v.name)).toEqual(['v1', 'v1beta1']);
  });
});
