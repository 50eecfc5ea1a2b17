import { describe, expect, it } from 'vitest';
import type { Obj } from '../resource-info.ts';
import {
  compareVersionPriority,
  crdSpec,
  customResourceDefinitionStrategy,
  servedVersions,
  storageVersion,
  type CrdSpec,
} from './custom-resource-definitions.ts';

describe('custom resource definition versions', () => {
  it('orders versions as Kubernetes prefers them: GA, then beta, then alpha, newest first, other names last', () => {
    expect(['v1alpha1', 'foo', 'v1beta1', 'v2', 'v1', 'v11alpha2', 'v1beta2', 'bar', 'v10'].sort(compareVersionPriority)).toEqual([
      'v10',
      'v2',
      'v1',
      'v1beta2',
      'v1beta1',
      'v11alpha2',
      'v1alpha1',
      'bar',
      'foo',
    ]);
  });

  it('serves only served versions; the stored one need not be served', () => {
    const spec = {
      versions: [
        { name: 'v1alpha1', served: true, storage: false },
        { name: 'v1', served: false, storage: true },
        { name: 'v1beta1', served: true, storage: false },
      ],
    } as CrdSpec;
    expect(servedVersions(spec).map((v) => v.name)).toEqual(['v1beta1', 'v1alpha1']);
    expect(storageVersion(spec)?.name).toBe('v1');
  });

  it('checks that a conversion webhook has somewhere to call and speaks ConversionReview v1', () => {
    const schema = { openAPIV3Schema: { type: 'object' } };
    const crd = (conversion: object) =>
      ({
        metadata: { name: 'widgets.g.dev' },
        spec: {
          group: 'g.dev',
          scope: 'Namespaced',
          names: { plural: 'widgets', kind: 'Widget' },
          versions: [
            { name: 'v1', served: true, storage: true, schema },
            { name: 'v2', served: true, storage: false, schema },
          ],
          conversion,
        },
      }) as unknown as Obj;
    const causes = (conversion: object) => (customResourceDefinitionStrategy.validate?.(crd(conversion)) ?? []).map((c) => `${c.field}: ${c.message}`);
    expect(causes({ strategy: 'None' })).toEqual([]);
    expect(causes({ strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: 'https://127.0.0.1:9443/convert' } } })).toEqual([]);
    expect(
      causes({ strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { namespace: 'ns', name: 'conv' } } } }),
    ).toEqual([]);
    expect(causes({ strategy: 'Webhook' })).toEqual(['spec.conversion.webhook: Required value: required when strategy is set to Webhook']);
    expect(causes({ strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1beta1'], clientConfig: { url: 'http://plain/convert' } } })).toEqual([
      'spec.conversion.webhook.clientConfig.url: Invalid value: "http://plain/convert": \'https\' is the only allowed URL scheme',
      'spec.conversion.webhook.conversionReviewVersions: Invalid value: ["v1beta1"]: must include at least one of v1',
    ]);
    expect(causes({ strategy: 'None', webhook: {} })).toEqual(['spec.conversion.webhook: Forbidden: should not be set when strategy is not set to Webhook']);
    // every served version is served, whatever the strategy
    expect(servedVersions(crdSpec(crd({ strategy: 'Webhook' }))).map((v) => v.name)).toEqual(['v2', 'v1']);
  });
});

describe('stored versions', () => {
  const crd = (storage: string, storedVersions?: string[]): Obj =>
    ({
      metadata: { name: 'widgets.example.com' },
      spec: { versions: ['v1', 'v2'].map((name) => ({ name, served: true, storage: name === storage })) },
      ...(storedVersions ? { status: { storedVersions } } : {}),
    }) as Obj;

  it('start with the storage version, and gain each new storage version in the order they came, never losing one', () => {
    const created = crd('v1');
    customResourceDefinitionStrategy.prepareForCreate?.(created);
    expect(created.status).toMatchObject({ storedVersions: ['v1'] });
    const moved = crd('v2', ['v1']);
    customResourceDefinitionStrategy.prepareForUpdate?.(moved, created);
    expect(moved.status).toEqual({ storedVersions: ['v1', 'v2'] });
    const back = crd('v1', ['v1', 'v2']);
    customResourceDefinitionStrategy.prepareForUpdate?.(back, moved);
    expect(back.status).toEqual({ storedVersions: ['v1', 'v2'] });
  });
});
