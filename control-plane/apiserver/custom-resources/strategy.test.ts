import { describe, expect, it } from 'vitest';
import { customResourceDefinitionStrategy } from '../resources/custom-resource-definitions.ts';
import type { Obj } from '../resource-info.ts';
import { valueAtPath } from '../../../apimachinery/index.ts';
import { customResourceScale, customResourceStrategy } from './strategy.ts';

const version = {
  name: 'v1',
  served: true,
  storage: true,
  schema: {
    openAPIV3Schema: {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          required: ['size'],
          properties: {
            size: { type: 'integer', minimum: 1 },
            tier: { type: 'string', enum: ['a', 'b'] },
            tags: { type: 'array', maxItems: 1, items: { type: 'string', pattern: '^[a-z]+$' } },
            zones: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
            disks: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
              items: { type: 'object', properties: { name: { type: 'string' }, size: { type: 'integer' } } },
            },
          },
        },
      },
    },
  },
  subresources: { scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size', labelSelectorPath: '.status.selector' } },
  additionalPrinterColumns: [
    { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
    { name: 'First', type: 'string', jsonPath: '.spec.tags[0]' },
  ],
};
const obj = (spec: object): Obj => ({
  apiVersion: 'x.io/v1',
  kind: 'Thing',
  metadata: { name: 't', creationTimestamp: new Date().toISOString() },
  spec: spec as Record<string, unknown>,
  status: { selector: 'app=t' },
});

describe('custom resource strategy', () => {
  const strategy = customResourceStrategy(version);

  it('checks required fields, bounds, enums, patterns and list sizes from the schema', () => {
    expect(strategy.validate?.(obj({ size: 2, tier: 'a', tags: ['ok'] }))).toEqual([]);
    expect(strategy.validate?.(obj({ size: 0, tier: 'c', tags: ['No', 'x'] })).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
      'spec.tier: Unsupported value: "c": supported values: "a", "b"',
      'spec.tags: Invalid value: ["No","x"]: spec.tags in body should have at most 1 items',
      'spec.tags[0]: Invalid value: "No": spec.tags[0] in body should match \'^[a-z]+$\'',
    ]);
    expect(strategy.validate?.(obj({})).map((c) => c.field)).toEqual(['spec.size']);
    // types are validation's to check for custom resources (422), as kube-apiserver does
    expect(strategy.validate?.(obj({ size: 'big', tags: 'a' })).map((c) => c.message)).toEqual([
      'Invalid value: "big": spec.size in body must be of type integer: "string"',
      'Invalid value: "a": spec.tags in body must be of type array: "string"',
    ]);
    expect(strategy.validate?.(obj({ size: 1.5 })).map((c) => c.message)).toEqual(['Invalid value: 1.5: spec.size in body must be of type integer: "number"']);
  });

  it('lets a schema require metadata and constrain its name, and enforces int-or-string and anyOf', () => {
    const argoLike = customResourceStrategy({
      ...version,
      schema: {
        openAPIV3Schema: {
          type: 'object',
          required: ['metadata', 'spec'],
          properties: {
            metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 5 } } },
            spec: {
              type: 'object',
              properties: {
                port: { 'x-kubernetes-int-or-string': true },
                size: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]+Gi$' }] },
              },
            },
          },
        },
      },
    });
    expect(argoLike.validate?.(obj({ port: 'http', size: '5Gi' }))).toEqual([]);
    expect(argoLike.validate?.({ ...obj({ port: 8080 }), metadata: { name: 'too-long' } }).map((c) => c.message)).toEqual([
      'Invalid value: "too-long": metadata.name in body may not be longer than 5',
    ]);
    expect(argoLike.validate?.(obj({ port: 1.5, size: 'huge' })).map((c) => c.message)).toEqual([
      'Invalid value: 1.5: spec.port in body must be of type integer,string: "number"',
      'Invalid value: "huge": spec.size in body must validate at least one schema (anyOf)',
    ]);
  });

  it('refuses duplicates in a set, and in a map list by its keys', () => {
    expect(
      strategy.validate?.(
        obj({
          size: 1,
          zones: ['a', 'b'],
          disks: [
            { name: 'x', size: 1 },
            { name: 'y', size: 1 },
          ],
        }),
      ),
    ).toEqual([]);
    expect(
      strategy
        .validate?.(
          obj({
            size: 1,
            zones: ['a', 'b', 'a'],
            disks: [
              { name: 'x', size: 1 },
              { name: 'x', size: 2 },
            ],
          }),
        )
        .map((c) => `${c.field}: ${c.message}`),
    ).toEqual(['spec.zones[2]: Duplicate value: "a"', 'spec.disks[1]: Duplicate value: {"name":"x"}']);
  });

  it('prints the additional columns after the name', () => {
    expect(strategy.columns?.map((c) => c.name)).toEqual(['Name', 'Size', 'First']);
    expect(strategy.cells?.(obj({ size: 2, tags: ['x'] }))).toEqual(['t', 2, 'x']);
    expect(valueAtPath({ a: { b: [{ c: 1 }] } }, '.a.b[0].c')).toBe(1);
  });

  it('scales through the paths the definition names', () => {
    const scale = customResourceScale(version);
    expect(scale).toMatchObject({ specReplicasPath: 'spec.size', statusReplicasPath: 'status.size' });
    expect(scale?.selector(obj({}))).toBe('app=t');
  });
});

describe('CustomResourceDefinition validation', () => {
  const crd = (name: string, spec: object): Obj => ({ metadata: { name }, spec: spec as Record<string, unknown> });
  const good = { group: 'x.io', scope: 'Namespaced', names: { plural: 'things', kind: 'Thing' }, versions: [version] };

  it('accepts a well-formed definition and gives it the cleanup finalizer', () => {
    const obj = crd('things.x.io', good);
    customResourceDefinitionStrategy.prepareForCreate?.(obj);
    expect(customResourceDefinitionStrategy.validate?.(obj)).toEqual([]);
    expect(obj.metadata.finalizers).toEqual(['customresourcecleanup.apiextensions.k8s.io']);
  });

  it('names what is wrong', () => {
    const causes =
      customResourceDefinitionStrategy.validate?.(crd('wrong', { ...good, scope: 'Galaxy', versions: [{ ...version, storage: false, schema: undefined }] })) ??
      [];
    expect(causes.map((c) => c.field)).toEqual(['metadata.name', 'spec.scope', 'spec.versions', 'spec.versions[0].schema.openAPIV3Schema']);
  });
});
