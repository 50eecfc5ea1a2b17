// Secrets encrypted at rest with the real kubectl: by default a server makes
// an aescbc key on first start and a Secret's value is nowhere in the SQLite
// database or its WAL, read raw, while the API serves it; keys rotate as
// Kubernetes documents it (add a key, restart, rewrite everything with a
// no-op replace, drop the old key, restart) and the Secret stays readable.
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretsEncryptionConfig } from '../../control-plane/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

const api = useTestApiServer('sk-encrypt-', ['--disable-scheduler', '--disable-controllers']);
const SENTINEL = `hunter2-${randomBytes(6).toString('hex')}`;

/** The database and its WAL as bytes on disk. */
async function rawStore(): Promise<string> {
  const files = await Promise.all(['state.db', 'state.db-wal'].map((f) => readFile(join(api.dir, f)).catch(() => Buffer.alloc(0))));
  return Buffer.concat(files).toString('latin1');
}

describe('Secrets at rest', () => {
  it('keeps a Secret encrypted in the database file and its WAL, and serves it in the clear', async () => {
    await api.kubectl('create', 'secret', 'generic', 'db', '-n', 'default', `--from-literal=password=${SENTINEL}`);
    const visible = `visible-${randomBytes(6).toString('hex')}`;
    await api.kubectl('create', 'configmap', 'plain', '-n', 'default', `--from-literal=note=${visible}`);
    const raw = await rawStore();
    // ConfigMaps are not in the default configuration: the raw read finds what is there
    expect(raw).toContain(visible);
    expect(raw).not.toContain(SENTINEL);
    expect(raw).not.toContain(Buffer.from(SENTINEL).toString('base64'));
    expect(raw).toContain('k8s:enc:aescbc:v1:key1:');
    expect(await api.kubectl('get', 'secret', 'db', '-n', 'default', '-o', 'jsonpath={.data.password}')).toBe(Buffer.from(SENTINEL).toString('base64'));
    const config = join(api.pkiDir, 'encryption-config.yaml');
    expect((await stat(config)).mode & 0o777).toBe(0o600);
  });

  it('rotates to a new key as Kubernetes documents it, the Secret readable throughout', async () => {
    const generated = await readFile(join(api.pkiDir, 'encryption-config.yaml'), 'utf8');
    const oldKey = /secret: "([^"]+)"/.exec(generated)?.[1] as string;
    const newKey = randomBytes(32).toString('base64');
    const config = join(api.dir, 'rotation.yaml');
    const write = (keys: [string, string][]) =>
      writeFile(
        config,
        secretsEncryptionConfig(
          keys.map(([name, secret]) => ({ name, secret })),
          { readPlain: false },
        ),
      );
    const read = () => api.kubectl('get', 'secret', 'db', '-n', 'default', '-o', 'jsonpath={.data.password}');
    const want = Buffer.from(SENTINEL).toString('base64');
    // the new key first, the old one still read
    await write([
      ['key2', newKey],
      ['key1', oldKey],
    ]);
    await api.restart(['--encryption-provider-config', config]);
    expect(await read()).toBe(want);
    // every Secret written again: now under the new key
    const all = await api.kubectl('get', 'secrets', '-A', '-o', 'json');
    const replaced = await api.kubectlResult(['replace', '-f', '-'], all);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await rawStore()).toContain('k8s:enc:aescbc:v1:key2:');
    // the old key gone
    await write([['key2', newKey]]);
    await api.restart(['--encryption-provider-config', config]);
    expect(await read()).toBe(want);
  });
});
