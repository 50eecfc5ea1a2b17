import { mkdtemp, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCA, issueCert, silentLogger, type KeyPair } from '../../apimachinery/index.ts';
import { CertificateManager, rotationDeadline } from './manager.ts';
import { CertificateStore, splitPem } from './store.ts';

describe('agent certificates', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sk-certs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps key and certificate in one private file behind a current link, and only the newest pair', async () => {
    const ca = await createCA('t', 1);
    const store = new CertificateStore(dir, 'kubelet-client');
    expect(await store.current()).toBeUndefined();
    const first = await issueCert(ca, { commonName: 'system:node:a', usage: 'client' });
    const second = await issueCert(ca, { commonName: 'system:node:a', usage: 'client' });
    await store.save(first, new Date('2026-01-01T00:00:00Z'));
    await store.save(second, new Date('2026-01-02T00:00:00Z'));
    expect(await store.current()).toEqual({ cert: `${second.cert.trimEnd()}\n`, key: `${second.key.trimEnd()}\n` });
    expect(await readlink(store.currentPath)).toBe('kubelet-client-2026-01-02-00-00-00.pem');
    expect((await readdir(dir)).sort()).toEqual(['kubelet-client-2026-01-02-00-00-00.pem', 'kubelet-client-current.pem']);
    expect((await stat(join(dir, 'kubelet-client-2026-01-02-00-00-00.pem'))).mode & 0o777).toBe(0o600);
    expect(splitPem('no pem here')).toBeUndefined();
  });

  it('rotates between 70% and 90% of the lifetime', () => {
    const validity = { notBefore: new Date(0), notAfter: new Date(1000) };
    expect([0, 0.5, 1].map((r) => Math.round(rotationDeadline(validity, r)))).toEqual([700, 800, 900]);
  });

  it('renews a certificate past its deadline, hands the new one over and keeps it', async () => {
    const ca = await createCA('t', 1);
    const store = new CertificateStore(dir, 'kubelet-client');
    // issued an hour ago, lives another 15 minutes: past 70% of its life
    await store.save(await issueCert(ca, { commonName: 'system:node:a', usage: 'client', days: 15 / 1440 }));
    const fresh = await issueCert(ca, { commonName: 'system:node:a', usage: 'client' });
    const stop = new AbortController();
    const handed: KeyPair[] = [];
    const manager = new CertificateManager({
      store,
      request: async () => fresh,
      rotated: (pair) => {
        handed.push(pair);
        stop.abort();
      },
      log: silentLogger,
      random: () => 0,
    });
    await manager.run(stop.signal);
    expect(handed).toEqual([fresh]);
    expect((await store.current())?.cert).toBe(`${fresh.cert.trimEnd()}\n`);
  });
});
