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
