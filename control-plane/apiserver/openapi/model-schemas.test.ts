import { describe, expect, it } from 'vitest';
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { resourceCatalog } from '../catalog.ts';
import { NodePortRange, ServiceIpRange } from '../resources/services.ts';
import { buildModelSchemas, schemaClosure } from './model-schemas.ts';
import { parseModelDocs } from './model-docs.ts';
import { checkDecoded, zeroNulls } from './decode-check.ts';

const served = resourceCatalog(new ServiceIpRange('10.96.0.0/12'), new NodePortRange()).filter((r) => !r.virtual);
const built = buildModelSchemas(
  models as Record<string, unknown>,
  served.map(({ group, version, kind }) => ({ group, version, kind })),
);

describe('schemas from the client models', () => {
  it('has a schema for every stored kind, tagged with its group-version-kind', () => {
    for (const r of served) {
      const name = built.kinds[`${r.group}/${r.version}/${r.kind}`];
      expect(name, `${r.group}/${r.version} ${r.kind}`).toBeDefined();
      expect(built.schemas[name as string]?.['x-kubernetes-group-version-kind']).toContainEqual({ group: r.group, version: r.version, kind: r.kind });
    }
    expect(built.kinds['/v1/Event']).toBe('io.k8s.api.core.v1.Event');
    expect(built.kinds['events.k8s.io/v1/Event']).toBe('io.k8s.api.events.v1.Event');
  });

  it('types fields as the upstream spec does', () => {
    const container = built.schemas['io.k8s.api.core.v1.Container']?.properties;
    expect(container?.args).toEqual({ type: 'array', items: { type: 'string' } });
    expect(container?.livenessProbe).toEqual({ allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Probe' }] });
    expect(built.schemas['io.k8s.api.core.v1.ContainerPort']?.properties?.containerPort).toEqual({ type: 'integer', format: 'int32' });
    expect(built.schemas['io.k8s.api.core.v1.HTTPGetAction']?.properties?.port).toEqual({
      allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' }],
    });
    expect(built.schemas['io.k8s.api.core.v1.ObjectMeta']?.properties?.labels).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
  });

  it('gives a document every schema its kinds reach and no more', () => {
    const closure = schemaClosure(built.schemas, [built.kinds['/v1/ConfigMap'] as string]);
    expect(Object.keys(closure)).toContain('io.k8s.api.core.v1.ManagedFieldsEntry');
    expect(Object.keys(closure)).not.toContain('io.k8s.api.core.v1.PodSpec');
  });
});

describe('unknown fields', () => {
  const pod = built.schemas[built.kinds['/v1/Pod'] as string];

  it('are removed and named by their path, lists and maps included', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      extra: true,
      metadata: { name: 'p', labels: { a: 'b' }, colour: 'red' },
      spec: { containers: [{ name: 'c', image: 'i', imagePullPolcy: 'Always', ports: [{ containerPort: 80, protocl: 'TCP' }] }], nodeSelector: { zone: 'a' } },
    };
    const { unknown, mistyped } = checkDecoded(built.schemas, pod ?? {}, obj);
    expect(mistyped).toEqual([]);
    expect(unknown).toEqual(['extra', 'metadata.colour', 'spec.containers[0].imagePullPolcy', 'spec.containers[0].ports[0].protocl']);
    expect(obj).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { a: 'b' } },
      spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }], nodeSelector: { zone: 'a' } },
    });
  });

  it('are kept where the schema keeps anything (raw extensions)', () => {
    const revision = built.schemas[built.kinds['apps/v1/ControllerRevision'] as string];
    const obj = { metadata: { name: 'r' }, revision: 1, data: { spec: { template: { anything: 1 } } } };
    expect(checkDecoded(built.schemas, revision ?? {}, obj)).toEqual({ unknown: [], mistyped: [] });
    expect(obj.data.spec.template.anything).toBe(1);
  });
});

describe('mistyped values', () => {
  const configMap = built.schemas[built.kinds['/v1/ConfigMap'] as string] ?? {};

  it('are named with the JSON type found and the one wanted', () => {
    expect(checkDecoded(built.schemas, configMap, { metadata: { name: 'x', labels: ['a'] }, data: 'text', immutable: 'yes' }).mistyped).toEqual([
      'json: cannot unmarshal array into field "metadata.labels" of type object',
      'json: cannot unmarshal string into field "data" of type object',
      'json: cannot unmarshal string into field "immutable" of type boolean',
    ]);
    expect(checkDecoded(built.schemas, configMap, [1, 2]).mistyped).toEqual(['json: cannot unmarshal array into field "." of type object']);
  });

  it('let numbers stand for quantities and null for anything', () => {
    const pod = built.schemas[built.kinds['/v1/Pod'] as string] ?? {};
    const obj = {
      metadata: { name: 'p', labels: null },
      spec: { containers: [{ name: 'c', resources: { limits: { cpu: 1, memory: '1Gi' } }, ports: [{ containerPort: 80, hostPort: null }] }] },
    };
    expect(checkDecoded(built.schemas, pod, obj)).toEqual({ unknown: [], mistyped: [] });
  });
});

describe('model docs', () => {
  it('reads the class and field descriptions and which fields are required', () => {
    const docs = parseModelDocs(`/**
* ContainerPort represents a network port.
*/
export declare class V1ContainerPort {
    /**
    * Number of port to expose on the pod\\'s IP address.
    */
    'containerPort': number;
    /**
    * Protocol for port. Defaults to \\"TCP\\".
    */
    'protocol'?: string;
    'hostIP'?: string;
    static readonly discriminator: string | undefined;
}`);
    expect(docs).toEqual({
      description: 'ContainerPort represents a network port.',
      fields: {
        containerPort: { description: "Number of port to expose on the pod's IP address.", required: true },
        protocol: { description: 'Protocol for port. Defaults to "TCP".', required: false },
        hostIP: { required: false },
      },
    });
  });
});

describe('null in a typed object', () => {
  it("is what Go's decoder makes of it: an absent struct field, an empty struct in a list, kept in a map", () => {
    const pod = built.schemas[built.kinds['/v1/Pod'] as string] ?? {};
    const obj = { metadata: null, spec: { containers: [null, { name: 'c', ports: [null] }], nodeName: null } } as Record<string, unknown>;
    zeroNulls(built.schemas, pod, obj);
    expect(obj).toEqual({ spec: { containers: [{}, { name: 'c', ports: [{}] }] } });
    const configMap = built.schemas[built.kinds['/v1/ConfigMap'] as string] ?? {};
    const cm = { metadata: { name: 'x', labels: { a: null } }, data: { k: null } };
    zeroNulls(built.schemas, configMap, cm);
    expect(cm).toEqual({ metadata: { name: 'x', labels: { a: null } }, data: { k: null } });
  });
});
