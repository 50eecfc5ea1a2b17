import { describe, expect, it } from 'vitest';
import { typeCheck, type CheckedKind } from './policy-type-check.ts';

// A Deployment-like kind: spec.replicas, a list of containers by reference, labels, an int-or-string.
const deployment: CheckedKind = {
  label: 'apps/v1, Kind=Deployment',
  schema: {
    type: 'object',
    properties: {
      metadata: { allOf: [{ $ref: '#/components/schemas/Meta' }] },
      spec: {
        type: 'object',
        properties: {
          replicas: { type: 'integer' },
          paused: { type: 'boolean' },
          maxSurge: { 'x-kubernetes-int-or-string': true },
          containers: { type: 'array', items: { $ref: '#/components/schemas/Container' } },
        },
      },
    },
  },
  components: {
    Meta: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        creationTimestamp: { type: 'string', format: 'date-time' },
      },
    },
    Container: { type: 'object', properties: { name: { type: 'string' }, image: { type: 'string' } } },
  },
};

describe('admission policy type checking', () => {
  it('passes what the schema allows, including null checks, int-or-string and formatted fields', () => {
    const fine: [string, string][] = [
      ['a', 'object.spec.replicas <= 5 && !object.spec.paused'],
      ['b', 'object.spec.containers.all(c, c.image.startsWith("registry.example.com/"))'],
      ['c', 'oldObject == null || object.spec.replicas >= oldObject.spec.replicas'],
      ['d', "object.metadata.labels['team'] == 'blue' && object.spec.maxSurge != 1"],
      ['e', 'params.data.limit == variables.x && request.userInfo.username != ""'],
      ['f', 'object.metadata.creationTimestamp != null'],
    ];
    expect(typeCheck(fine, [deployment])).toEqual([]);
  });

  it('says where a field the kind lacks, or a type it has, breaks an expression', () => {
    const warnings = typeCheck(
      [
        ['spec.validations[0].expression', 'object.spec.replicsa > 1'],
        ['spec.validations[1].expression', 'object.spec.containers.all(c,\n  c.imagee != "")'],
        ['spec.validations[2].expression', 'object.spec.replicas > "3"'],
        ['spec.validations[3].expression', 'object.spec.replicas > 3'],
      ],
      [deployment],
    );
    expect(warnings.map((w) => w.fieldRef)).toEqual(['spec.validations[0].expression', 'spec.validations[1].expression', 'spec.validations[2].expression']);
    expect(warnings[0]?.warning).toBe('apps/v1, Kind=Deployment: ERROR: <input>:1:13: No such key: replicsa\n | object.spec.replicsa > 1\n | ............^');
    expect(warnings[1]?.warning).toMatch(/^apps\/v1, Kind=Deployment: ERROR: <input>:2:\d+: No such key: imagee\n \| {3}c\.imagee != ""/);
    expect(warnings[2]?.warning).toContain('no such overload: int > string');
  });

  it('reports each kind an expression breaks for, one line each', () => {
    const other: CheckedKind = {
      ...deployment,
      label: 'apps/v1, Kind=StatefulSet',
      schema: { type: 'object', properties: { spec: { type: 'object', properties: {} } } },
    };
    const [warning] = typeCheck([['x', 'object.spec.replicas > 1']], [deployment, other]);
    expect(warning?.warning.split('\n')[0]).toBe('apps/v1, Kind=StatefulSet: ERROR: <input>:1:13: No such key: replicas');
  });
});
