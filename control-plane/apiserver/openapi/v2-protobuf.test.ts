import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { encodeOpenApiV2, wantsOpenApiV2Protobuf } from './v2-protobuf.ts';

const root = new protobuf.Root().loadSync(join(dirname(fileURLToPath(import.meta.url)), 'openapi-v2.proto'), { keepCase: true });
const decode = (bytes: Buffer) => root.lookupType('openapi.v2.Document').toObject(root.lookupType('openapi.v2.Document').decode(bytes), { defaults: false });

const document = {
  swagger: '2.0',
  info: { title: 'Kubernetes', version: 'v1.34.0-skiff' },
  paths: {
    '/api/v1/namespaces/{namespace}/configmaps/{name}': {
      patch: {
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind: 'ConfigMap' },
        parameters: [{ name: 'fieldValidation', in: 'query', type: 'string', uniqueItems: true }],
        responses: { '200': { description: 'OK', schema: { $ref: '#/definitions/io.k8s.api.core.v1.ConfigMap' } } },
      },
    },
  },
  definitions: {
    'io.k8s.api.core.v1.ConfigMap': {
      description: 'holds data',
      type: 'object',
      required: ['metadata'],
      properties: {
        data: { type: 'object', additionalProperties: { type: 'string' } },
        immutable: { type: 'boolean', default: false },
        keys: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, maxItems: 3 },
        metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', description: 'standard metadata' },
        anything: { 'x-kubernetes-preserve-unknown-fields': true, anyOf: [{ type: 'integer' }] },
      },
      'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'ConfigMap' }],
    },
  },
};

describe('OpenAPI v2 in protobuf', () => {
  it('is asked for by the media type client-go sends, or its dotted spelling, and not by JSON clients', () => {
    expect(wantsOpenApiV2Protobuf('application/com.github.proto-openapi.spec.v2@v1.0+protobuf')).toBe(true);
    expect(wantsOpenApiV2Protobuf('application/json, application/com.github.proto-openapi.spec.v2.v1.0+protobuf;q=0.9')).toBe(true);
    expect(wantsOpenApiV2Protobuf('application/json')).toBe(false);
    expect(wantsOpenApiV2Protobuf(undefined)).toBe(false);
  });

  it('carries paths with their group-version-kind and query parameters, as kubectl looks them up', () => {
    const doc = decode(encodeOpenApiV2(document));
    expect(doc.swagger).toBe('2.0');
    expect(doc.info).toEqual({ title: 'Kubernetes', version: 'v1.34.0-skiff' });
    const [path] = doc.paths.path;
    expect(path.name).toBe('/api/v1/namespaces/{namespace}/configmaps/{name}');
    const patch = path.value.patch;
    const gvk = patch.vendor_extension.find((e: { name: string }) => e.name === 'x-kubernetes-group-version-kind');
    expect(parse(gvk.value.yaml)).toEqual({ group: '', version: 'v1', kind: 'ConfigMap' });
    expect(patch.parameters[0].parameter.non_body_parameter.query_parameter_sub_schema).toEqual({
      name: 'fieldValidation',
      in: 'query',
      type: 'string',
      unique_items: true,
    });
    expect(patch.responses.response_code[0]).toEqual({
      name: '200',
      value: { response: { description: 'OK', schema: { schema: { _ref: '#/definitions/io.k8s.api.core.v1.ConfigMap' } } } },
    });
  });

  it('carries every schema field Swagger 2.0 has, values as YAML, properties in their order', () => {
    const doc = decode(encodeOpenApiV2(document));
    const [model] = doc.definitions.additional_properties;
    expect(model.name).toBe('io.k8s.api.core.v1.ConfigMap');
    const schema = model.value;
    expect(schema).toMatchObject({ description: 'holds data', type: { value: ['object'] }, required: ['metadata'] });
    expect(parse(schema.vendor_extension[0].value.yaml)).toEqual([{ group: '', version: 'v1', kind: 'ConfigMap' }]);
    const props = Object.fromEntries(schema.properties.additional_properties.map((p: { name: string; value: unknown }) => [p.name, p.value]));
    expect(schema.properties.additional_properties.map((p: { name: string }) => p.name)).toEqual(['data', 'immutable', 'keys', 'metadata', 'anything']);
    expect(props.data).toEqual({ type: { value: ['object'] }, additional_properties: { schema: { type: { value: ['string'] } } } });
    expect(props.immutable).toEqual({ type: { value: ['boolean'] }, default: { yaml: 'false\n' } });
    expect(props.keys.items.schema[0].enum.map((e: { yaml: string }) => parse(e.yaml))).toEqual(['a', 'b']);
    expect(Number(props.keys.max_items)).toBe(3);
    expect(props.metadata).toEqual({ _ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', description: 'standard metadata' });
    // anyOf has no field in Swagger 2.0: an untyped schema is "anything" to kubectl
    expect(props.anything).toEqual({ vendor_extension: [{ name: 'x-kubernetes-preserve-unknown-fields', value: { yaml: 'true\n' } }] });
  });
});
