import { describe, expect, it } from 'vitest';
import { applyDefaults, invalidDefaults } from './defaulting.ts';
import type { JsonSchema } from './validation.ts';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        mode: { type: 'string', default: 'slow' },
        limits: { type: 'object', default: {}, properties: { cpu: { type: 'string', default: '1' } } },
        ports: { type: 'array', items: { type: 'object', properties: { protocol: { type: 'string', default: 'TCP' } } } },
        labels: { type: 'object', additionalProperties: { type: 'object', properties: { weight: { type: 'integer', default: 1 } } } },
      },
    },
    status: { type: 'object', properties: { phase: { type: 'string', default: 'Pending' } } },
  },
};

describe('custom resource defaults', () => {
  it('fills what is missing, inside defaulted objects, list items and maps too', () => {
    const obj: Record<string, unknown> = { spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }], labels: { a: {}, b: { weight: 5 } } } };
    applyDefaults(schema, obj);
    expect(obj).toEqual({
      spec: {
        mode: 'slow',
        limits: { cpu: '1' },
        ports: [
          { port: 80, protocol: 'TCP' },
          { port: 53, protocol: 'UDP' },
        ],
        labels: { a: { weight: 1 }, b: { weight: 5 } },
      },
    });
  });

  it('leaves set values and absent parents alone, and never shares a default between objects', () => {
    const a: Record<string, unknown> = { spec: { mode: 'fast' } };
    const b: Record<string, unknown> = { spec: {} };
    applyDefaults(schema, a);
    applyDefaults(schema, b);
    expect(a).toEqual({ spec: { mode: 'fast', limits: { cpu: '1' } } });
    expect(a.status).toBeUndefined();
    (a.spec as { limits: { cpu: string } }).limits.cpu = '2';
    expect((b.spec as { limits: unknown }).limits).toEqual({ cpu: '1' });
  });

  it('names the defaults their own schema refuses', () => {
    const bad: JsonSchema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            mode: { type: 'string', enum: ['fast', 'slow'], default: 'medium' },
            ports: { type: 'array', items: { type: 'integer', minimum: 1, default: 0 } },
          },
        },
      },
    };
    expect(invalidDefaults(bad, 'root').map((c) => `${c.field}: ${c.message}`)).toEqual([
      'root.properties[spec].properties[mode].default: Unsupported value: "medium": supported values: "fast", "slow"',
      'root.properties[spec].properties[ports].items.default: Invalid value: 0: root.properties[spec].properties[ports].items.default in body should be greater than or equal to 1',
    ]);
    expect(invalidDefaults(schema, 'root')).toEqual([]);
  });
});
