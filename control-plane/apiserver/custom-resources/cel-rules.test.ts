import { describe, expect, it } from 'vitest';
import { celViolations, invalidRules } from './cel-rules.ts';
import type { JsonSchema } from './validation.ts';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: 'self.replicas <= self.maxReplicas', message: 'replicas may not exceed maxReplicas' },
        { rule: 'self.replicas / 2 < 2', messageExpression: '"half of " + string(self.replicas) + " is too many"' },
        { rule: '!has(self.image) || self.image != ""', fieldPath: '.image', reason: 'FieldValueRequired', message: 'an image is needed' },
      ],
      properties: {
        replicas: { type: 'integer' },
        maxReplicas: { type: 'integer' },
        image: { type: 'string' },
        tier: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'tier is immutable' }] },
        ports: { type: 'array', items: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self > 0' }] } },
        volumes: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, size: { type: 'integer' } },
            'x-kubernetes-validations': [{ rule: 'self.size >= oldSelf.size', message: 'a volume may not shrink' }],
          },
        },
      },
    },
  },
};

const check = (spec: object, old?: object) => celViolations(schema, { spec }, old && { spec: old }, '').map((c) => `${c.field}: ${c.message}`);

describe('CEL validation rules', () => {
  it('passes objects that keep every rule', () => {
    expect(check({ replicas: 3, maxReplicas: 5, image: 'busybox', tier: 'a', ports: [80] }, { tier: 'a' })).toEqual([]);
  });

  it('reports broken rules with their message, message expression, field path and reason', () => {
    expect(check({ replicas: 6, maxReplicas: 5, image: '', ports: [80, 0] })).toEqual([
      'spec: Invalid value: "object": replicas may not exceed maxReplicas',
      'spec: Invalid value: "object": half of 6 is too many',
      'spec.image: Required value: an image is needed',
      'spec.ports[1]: Invalid value: "integer": failed rule: self > 0',
    ]);
  });

  it('sees integers as CEL ints (3 / 2 is 1)', () => {
    expect(check({ replicas: 3, maxReplicas: 3 })).toEqual([]);
  });

  it('checks transition rules on updates only', () => {
    expect(check({ replicas: 1, maxReplicas: 1, tier: 'b' })).toEqual([]);
    expect(check({ replicas: 1, maxReplicas: 1, tier: 'b' }, { tier: 'a' })).toEqual(['spec.tier: Invalid value: "string": tier is immutable']);
  });

  it("matches a map list's items old to new by their keys for transition rules", () => {
    const old = {
      volumes: [
        { name: 'a', size: 5 },
        { name: 'b', size: 5 },
      ],
    };
    expect(
      check(
        {
          replicas: 1,
          maxReplicas: 1,
          volumes: [
            { name: 'b', size: 6 },
            { name: 'a', size: 4 },
            { name: 'c', size: 1 },
          ],
        },
        old,
      ),
    ).toEqual(['spec.volumes[1]: Invalid value: "object": a volume may not shrink']);
  });

  it('names the rules of a definition that do not compile', () => {
    const bad: JsonSchema = {
      type: 'object',
      properties: { spec: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a <<' }, { rule: 'true', messageExpression: '"x" +' }] } },
    };
    expect(invalidRules(bad, 'root').map((c) => c.field)).toEqual([
      'root.properties[spec].x-kubernetes-validations[0].rule',
      'root.properties[spec].x-kubernetes-validations[1].messageExpression',
    ]);
    expect(invalidRules(schema, 'root')).toEqual([]);
  });
});
