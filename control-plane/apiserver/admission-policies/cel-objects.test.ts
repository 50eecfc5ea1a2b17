import { describe, expect, it } from 'vitest';
import { fromCel, mutationProgram, rewriteForCelJs } from './cel-objects.ts';

const run = (expression: string, vars: Record<string, unknown> = {}) => fromCel(mutationProgram(expression)(vars));

describe('object construction in mutation expressions', () => {
  it('builds nested objects of mixed field types', () => {
    expect(run('Object{metadata: Object.metadata{labels: Object.metadata.labels{mutated: "true"}}, spec: Object.spec{replicas: 3, paused: false}}')).toEqual({
      metadata: { labels: { mutated: 'true' } },
      spec: { replicas: 3, paused: false },
    });
  });

  it('builds JSON patches whose values are expressions, maps, lists and objects', () => {
    const patch = run(
      `[
        JSONPatch{op: "test", path: "/spec/example", value: "Red"},
        JSONPatch{op: "add", path: "/metadata/labels/" + jsonpatch.escapeKey("example.com/env"), value: object.spec.size * 2},
        JSONPatch{op: "add", path: "/spec/selector", value: Object.spec.selector{matchLabels: {"environment": "test"}}},
        JSONPatch{op: "add", path: "/spec/list", value: [1, 2]}
      ]`,
      { object: { spec: { size: 4n } } },
    );
    expect(patch).toEqual([
      { op: 'test', path: '/spec/example', value: 'Red' },
      { op: 'add', path: '/metadata/labels/example.com~1env', value: 8 },
      { op: 'add', path: '/spec/selector', value: { matchLabels: { environment: 'test' } } },
      { op: 'add', path: '/spec/list', value: [1, 2] },
    ]);
  });

  it('leaves map literals, `in`, strings and comments as written', () => {
    const plain = `"a" in {"a": 1} && 'Object{x: 1}' != r"JSONPatch{" // Object{y: 2}`;
    expect(rewriteForCelJs(plain)).toBe(plain);
    expect(run('{"k": [1]}')).toEqual({ k: [1] });
  });

  it('keeps a conditional around objects and an empty object', () => {
    expect(run('has(object.spec) ? Object{spec: Object.spec{}} : Object{}', { object: { spec: {} } })).toEqual({ spec: {} });
  });

  it('refuses what does not compile', () => {
    expect(() => mutationProgram('Object{spec: 1 +}')).toThrow();
    expect(() => mutationProgram('[JSONPatch{op: "add"}')).toThrow();
  });
});
