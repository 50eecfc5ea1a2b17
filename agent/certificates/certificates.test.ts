import { mkdtemp, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, createCA, issueCert, silentLogger, type KeyPair, type RestClient } from '../../apimachinery/index.ts';
import { CertificateManager, rotationDeadline } from './manager.ts';
import { requestCertificate } from './request.ts';
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

  it('waits out an API server that goes away while it asks, and takes the certificate once issued', async () => {
    const away = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443'));
    const calls: string[] = [];
    let stored: { metadata: { name: string }; status?: { certificate: string } } | undefined;
    const client = {
      // refused, then made though its answer is lost, then AlreadyExists
      create: async (_ref: unknown, csr: { metadata: { name: string } }) => {
        calls.push('create');
        if (calls.length === 1) return away();
        if (!stored) {
          stored = { ...csr };
          throw new Error('socket hang up');
        }
        throw new ApiError('AlreadyExists', 'exists');
      },
      // away, then waiting for approval, then issued
      get: async () => {
        calls.push('get');
        if (calls.filter((c) => c === 'get').length === 1) return away();
        if (calls.filter((c) => c === 'get').length === 3 && stored) stored.status = { certificate: Buffer.from('PEM').toString('base64') };
        return stored;
      },
    } as unknown as RestClient;
    const pair = await requestCertificate(
      client,
      { signerName: 'kubernetes.io/kubelet-serving', commonName: 'system:node:a', organizations: ['system:nodes'], usages: ['server auth'] },
      new AbortController().signal,
    );
    expect(pair.cert).toBe('PEM');
    expect(calls).toEqual(['create', 'create', 'create', 'get', 'get', 'get']);
  });

  it('gives up at once on what the server refuses', async () => {
    const client = { create: async () => Promise.reject(new ApiError('Forbidden', 'no')) } as unknown as RestClient;
    const ask = { signerName: 'kubernetes.io/kubelet-serving', commonName: 'x', organizations: [], usages: [] } as const;
    await expect(requestCertificate(client, { ...ask, usages: [...ask.usages], organizations: [] }, new AbortController().signal)).rejects.toThrow('no');
  });
});
