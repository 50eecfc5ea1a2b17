import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENCRYPTION_CONFIG_FILE, SHARED_PKI_FILES, newCertificateKey, openSharedPki, sealSharedPki, writeSharedPki } from './control-plane-certs.ts';

describe("the cluster's shared PKI in transit", () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sk-cpcerts-'));
    for (const name of SHARED_PKI_FILES) await writeFile(join(dir, name), `contents of ${name}\n`);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens with the key it was sealed with, shows nothing of the files sealed, and refuses another key', async () => {
    const key = newCertificateKey();
    const sealed = await sealSharedPki(dir, key);
    for (const text of Object.values(sealed)) expect(Buffer.from(text, 'base64').toString()).not.toContain('contents of');
    const opened = openSharedPki(sealed, key);
    const out = await mkdtemp(join(tmpdir(), 'sk-cpcerts-out-'));
    try {
      await writeSharedPki(out, opened);
      expect(await readFile(join(out, 'ca.key'), 'utf8')).toBe('contents of ca.key\n');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    expect(() => openSharedPki(sealed, newCertificateKey())).toThrow(
      'the certificate key does not open the skiff-certs Secret (wrong key, or the certificates were uploaded again since)',
    );
    expect(() => openSharedPki(sealed, 'abc')).toThrow('--certificate-key must be 64 hex characters');
  });

  it('carries the encryption-at-rest keys where the server has them (0600 on arrival), and does without them where it has none', async () => {
    const key = newCertificateKey();
    expect(Object.keys(openSharedPki(await sealSharedPki(dir, key), key))).toEqual([...SHARED_PKI_FILES]);
    await writeFile(join(dir, ENCRYPTION_CONFIG_FILE), 'kind: EncryptionConfiguration\n');
    const opened = openSharedPki(await sealSharedPki(dir, key), key);
    const out = await mkdtemp(join(tmpdir(), 'sk-cpcerts-out-'));
    try {
      await writeSharedPki(out, opened);
      expect(await readFile(join(out, ENCRYPTION_CONFIG_FILE), 'utf8')).toBe('kind: EncryptionConfiguration\n');
      expect((await stat(join(out, ENCRYPTION_CONFIG_FILE))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
