import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../apimachinery/index.ts';
import { SqliteStorage } from '../storage/index.ts';
import { Registry } from './registry.ts';

const resource = (name: string, kind: string) => ({ group: '', version: 'v1', resource: name, kind, singular: name.slice(0, -1), namespaced: true });

/** ConfigMaps and Secrets in two namespaces on one store, read through the watch cache or not. */
async function fixture(cached: boolean) {
  const storage = new SqliteStorage(':memory:');
  const configmaps = new Registry(resource('configmaps', 'ConfigMap'), storage);
  const secrets = new Registry(resource('secrets', 'Secret'), storage);
  for (const ns of ['a', 'b']) {
    for (let i = 0; i < 3; i++) {
      await configmaps.create(ns, { metadata: { name: `cm-${i}` }, data: {} });
      await secrets.create(ns, { metadata: { name: `s-${i}` }, data: {} });
    }
  }
  if (cached) await configmaps.startCache();
  return { configmaps, stop: () => configmaps.stopCache() };
}

const forged = (t: unknown) => Buffer.from(JSON.stringify(t)).toString('base64url');

/** Continue values an attacker might send: junk, and tokens whose key points anywhere. */
const tokens = fc.oneof(
  fc.string(),
  fc.base64String(),
  fc
    .record({
      v: fc.constantFrom('meta.k8s.io/v1', 'skiff/v1', 'v2'),
      rv: fc.oneof(fc.constantFrom(-1, 0, 1, 5), fc.integer()),
      start: fc.oneof(
        fc.constantFrom(
          '/registry/secrets/',
          '/registry/secrets/a/s-0',
          '../secrets/a/s-0',
          'a/../../secrets/a',
          '..',
          '.',
          'a/',
          'a//b',
          '\0',
          'b/cm-0',
          'a/cm-0',
          '',
        ),
        fc.string(),
        fc.string().map((s) => `../${s}`),
      ),
    })
    .map(forged),
);

describe('continue tokens', () => {
  for (const cached of [false, true]) {
    it(`never bring back an object outside the list they are used with (${cached ? 'watch cache' : 'storage'})`, async () => {
      const { configmaps, stop } = await fixture(cached);
      try {
        await fc.assert(
          fc.asyncProperty(tokens, fc.constantFrom(undefined, 'a'), fc.constantFrom(undefined, 1, 100), async (token, namespace, limit) => {
            try {
              const out = await configmaps.list({ namespace, continue: token, limit });
              for (const item of out.items) {
                expect(item.kind ?? 'ConfigMap').toBe('ConfigMap');
                expect(item.metadata.name).toMatch(/^cm-/);
                if (namespace) expect(item.metadata.namespace).toBe(namespace);
              }
            } catch (err) {
              expect(err).toBeInstanceOf(ApiError);
              // refused, gone (compacted), or a revision not reached yet (504, as kube-apiserver)
              expect([400, 410, 504]).toContain((err as ApiError).code);
            }
          }),
          { numRuns: 400, seed: 22 },
        );
      } finally {
        stop();
      }
    });
  }

  it('page a list whole, and refuse a token that climbs out of the list with 400', async () => {
    const { configmaps } = await fixture(false);
    const names: string[] = [];
    let next: string | undefined;
    do {
      const page = await configmaps.list({ limit: 2, continue: next });
      names.push(...page.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`));
      next = page.continue;
    } while (next);
    expect(names).toEqual(['a/cm-0', 'a/cm-1', 'a/cm-2', 'b/cm-0', 'b/cm-1', 'b/cm-2']);
    const err = await configmaps.list({ continue: forged({ v: 'meta.k8s.io/v1', rv: 1, start: '../secrets/a/s-0' }) }).catch((e: ApiError) => e);
    expect(err).toMatchObject({ code: 400, message: 'invalid continue token: continue key is not valid: ../secrets/a/s-0' });
  });

  it('refuse names and namespaces that would reach another key', async () => {
    const { configmaps } = await fixture(false);
    for (const [ns, name] of [
      ['a', '..'],
      ['a', 'x/y'],
      ['..', 'cm-0'],
      ['a/../b', 'cm-0'],
      ['a', '%2e'],
    ]) {
      const err = await configmaps.get(ns, name as string).catch((e: ApiError) => e);
      expect(err, `${ns}/${name}`).toMatchObject({ code: 400 });
    }
    await expect(configmaps.list({ namespace: 'a/..' })).rejects.toMatchObject({
      code: 400,
      message: 'Namespace parameter invalid: "a/..": may not contain \'/\'',
    });
  });
});
