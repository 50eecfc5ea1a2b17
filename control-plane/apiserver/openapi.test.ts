import { describe, expect, it } from 'vitest';
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { resourceCatalog } from './catalog.ts';
import { openApiDocument, openApiV2Document } from './openapi.ts';
import { buildModelSchemas } from './openapi/model-schemas.ts';
import { NodePortRange, ServiceIpRange } from './resources/services.ts';

const served = resourceCatalog(new ServiceIpRange('10.96.0.0/12'), new NodePortRange()).filter((r) => !r.virtual);
const schemas = buildModelSchemas(
  models as Record<string, unknown>,
  served.map(({ group, version, kind }) => ({ group, version, kind })),
);

type Doc = {
  paths: Record<
    string,
    Record<
      string,
      { 'x-kubernetes-group-version-kind'?: unknown; parameters?: { name: string; type?: string }[]; responses: Record<string, { schema?: { $ref: string } }> }
    >
  >;
  definitions: Record<string, { properties?: Record<string, { $ref?: string; allOf?: unknown }> }>;
};

describe('OpenAPI v2', () => {
  const v2 = openApiV2Document(served, schemas) as Doc;

  it('names every served resource once, with the operations and group-version-kind of v3', () => {
    const pod = v2.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    expect(pod?.get?.['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Pod' });
    expect(pod?.get?.responses['200']?.schema).toEqual({ $ref: '#/definitions/io.k8s.api.core.v1.Pod' });
    expect(pod?.patch?.parameters?.find((p) => p.name === 'fieldValidation')).toEqual({
      name: 'fieldValidation',
      in: 'query',
      type: 'string',
      uniqueItems: true,
    });
    expect(v2.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status']).toBeDefined();
    const v3 = openApiDocument(served, 'apis/apps/v1', schemas) as { paths: Record<string, unknown> };
    for (const p of Object.keys(v3.paths)) expect(v2.paths[p], p).toBeDefined();
  });

  it('keeps references in definitions, beside their descriptions', () => {
    const text = JSON.stringify(v2);
    expect(text).not.toContain('#/components/schemas/');
    for (const [, ref] of text.matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g)) expect(v2.definitions[ref as string], ref).toBeDefined();
    // v3's allOf: [{$ref}] (a reference with a description beside it) is a plain $ref in v2
    const probe = v2.definitions['io.k8s.api.core.v1.Container']?.properties?.livenessProbe;
    expect(probe).toEqual({ $ref: '#/definitions/io.k8s.api.core.v1.Probe' });
  });
});

describe('OpenAPI v2 of a custom resource', () => {
  const configMaps = served.find((r) => r.kind === 'ConfigMap');
  const info = { ...(configMaps as (typeof served)[number]), group: 'example.com', version: 'v1', kind: 'Widget', resource: 'widgets' };
  const custom = {
    schemas: {
      'com.example.v1.Widget': {
        type: 'object',
        required: ['spec', 'note'],
        properties: {
          spec: {
            type: 'object',
            properties: {
              size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
              extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
              tags: { type: 'array', items: { type: 'string' }, nullable: true },
              loose: { type: 'array', 'x-kubernetes-preserve-unknown-fields': true, items: { type: 'string' } },
            },
          },
          note: { type: 'string', nullable: true },
        },
      },
    },
    kinds: { 'example.com/v1/Widget': 'com.example.v1.Widget' },
  } as unknown as Parameters<typeof openApiV2Document>[1];
  type Definition = { required?: string[]; properties: { spec: { properties: Record<string, unknown> } } };
  const definition = (openApiV2Document([info], custom) as { definitions: Record<string, Definition> }).definitions['com.example.v1.Widget'] as Definition;
  const spec = definition.properties.spec.properties;

  it('leaves out what Swagger 2.0 cannot say, so kubectl takes any value where the server does', () => {
    // int-or-string: no type left, any value
    expect(spec.size).toEqual({ 'x-kubernetes-int-or-string': true });
    // unknown fields kept: neither type nor fields, or kubectl would refuse the unknown ones
    expect(spec.extra).toEqual({ 'x-kubernetes-preserve-unknown-fields': true });
    expect(spec.loose).toEqual({ 'x-kubernetes-preserve-unknown-fields': true });
    // nullable: no type, so null passes
    expect(spec.tags).toEqual({});
  });

  it('does not require a field that may be null', () => {
    expect(definition.required).toEqual(['spec']);
  });
});
