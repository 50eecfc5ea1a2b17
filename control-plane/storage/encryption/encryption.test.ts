import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../sqlite.ts';
import type { StorageEvent } from '../types.ts';
import { EncryptingStorage, parseEncryptionConfig } from './index.ts';
import { aescbc, aesgcm, secretbox } from './providers.ts';

const key = () => randomBytes(32).toString('base64');
const config = (resources: string, providers: string) =>
  parseEncryptionConfig(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [${resources}]
  providers:
${providers}`);
const keyed = (provider: string, ...keys: [string, string][]) =>
  `  - ${provider}:\n      keys:\n${keys.map(([name, secret]) => `      - {name: ${name}, secret: "${secret}"}`).join('\n')}\n`;
const SECRET = '/registry/secrets/default/db';
const VALUE = JSON.stringify({ kind: 'Secret', data: { password: Buffer.from('hunter2-sentinel').toString('base64') } });

describe('encryption providers', () => {
  it('open what they seal, and aesgcm only under the storage key it sealed with', () => {
    for (const make of [aescbc, aesgcm, secretbox]) {
      const t = make({ name: 'k', secret: key() });
      const sealed = t.seal(Buffer.from(VALUE), SECRET);
      expect(sealed.toString()).not.toContain('hunter2');
      expect(t.open(sealed, SECRET).toString()).toBe(VALUE);
    }
    const gcm = aesgcm({ name: 'k', secret: key() });
    expect(() => gcm.open(gcm.seal(Buffer.from(VALUE), SECRET), '/registry/secrets/default/other')).toThrow();
    expect(() => aescbc({ name: 'short', secret: Buffer.from('too short').toString('base64') })).toThrow(/aescbc key "short": 9 bytes/);
  });

  it('refuses a configuration without providers or with a provider it does not have', () => {
    expect(() => config('secrets', '  - kms: {name: x}\n')).toThrow(/kms is not supported/);
    expect(() => config('secrets', '  - aescbc: {keys: []}\n')).toThrow(/at least one key is required/);
  });
});

describe('EncryptingStorage over SQLite', () => {
  let dir = '';
  let raw: SqliteStorage;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sk-enc-'));
    raw = new SqliteStorage(join(dir, 'state.db'));
  });
  afterEach(async () => {
    await raw.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('seals the resources it is told to on the way in and opens them on every way out, leaving others plain', async () => {
    const k1 = key();
    const store = new EncryptingStorage(raw, config('secrets', `${keyed('aescbc', ['key1', k1])}  - identity: {}\n`));
    const events: StorageEvent[] = [];
    const stop = await store.watch('/registry/', 0, (e) => events.push(e));
    await store.create(SECRET, VALUE);
    await store.create('/registry/configmaps/default/cfg', '{"kind":"ConfigMap"}');
    const stored = await raw.get(SECRET);
    expect(stored?.value).toMatch(/^k8s:enc:aescbc:v1:key1:/);
    expect(stored?.value).not.toContain(Buffer.from('hunter2-sentinel').toString('base64'));
    expect((await raw.get('/registry/configmaps/default/cfg'))?.value).toBe('{"kind":"ConfigMap"}');
    expect((await store.get(SECRET))?.value).toBe(VALUE);
    expect((await store.list('/registry/secrets/')).items.map((kv) => kv.value)).toEqual([VALUE]);
    expect(events.map((e) => e.kv.value)).toEqual([VALUE, '{"kind":"ConfigMap"}']);
    stop();
  });

  it('reads values written before encryption through identity, and with an old key after rotation, writing with the first', async () => {
    await raw.create(SECRET, VALUE);
    const [k1, k2] = [key(), key()];
    const first = new EncryptingStorage(raw, config('secrets', `${keyed('aescbc', ['key1', k1])}  - identity: {}\n`));
    expect((await first.get(SECRET))?.value).toBe(VALUE);
    const kv = await first.update(SECRET, VALUE, (await raw.get(SECRET))?.modRevision as number);
    // the new key added second, then made first: old values read, rewrites use it
    const rotated = new EncryptingStorage(raw, config('secrets', keyed('aescbc', ['key2', k2], ['key1', k1])));
    expect((await rotated.get(SECRET))?.value).toBe(VALUE);
    await rotated.update(SECRET, VALUE, kv.modRevision);
    expect((await raw.get(SECRET))?.value).toMatch(/^k8s:enc:aescbc:v1:key2:/);
    const onlyNew = new EncryptingStorage(raw, config('secrets', keyed('secretbox', ['other', key()])));
    await expect(onlyNew.get(SECRET)).rejects.toThrow(/unable to transform key "\/registry\/secrets\/default\/db": no matching prefix found/);
  });

  it('takes resources by group and wildcard as the configuration names them', async () => {
    const store = new EncryptingStorage(raw, config('"*.apps", "widgets.example.com"', keyed('aesgcm', ['g', key()])));
    await store.create('/registry/apps/deployments/default/web', '{}');
    await store.create('/registry/example.com/widgets/default/w', '{}');
    await store.create('/registry/pods/default/p', '{}');
    expect((await raw.get('/registry/apps/deployments/default/web'))?.value).toMatch(/^k8s:enc:aesgcm:v1:g:/);
    expect((await raw.get('/registry/example.com/widgets/default/w'))?.value).toMatch(/^k8s:enc:aesgcm:v1:g:/);
    expect((await raw.get('/registry/pods/default/p'))?.value).toBe('{}');
  });
});
