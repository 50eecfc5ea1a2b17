import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, bootstrapTokenSecret, isExpired, newBootstrapToken, readBootstrapToken, tokenRefusal, tokenText } from './bootstrap-token.ts';
import { clusterInfoKubeconfig, readClusterInfoKubeconfig, signKubeconfig, verifyKubeconfig } from './cluster-info.ts';
import { caCertHash, createCA } from './pki.ts';

/** The Secret as the API server stores it: stringData folded into base64 data. */
const stored = (s: ReturnType<typeof bootstrapTokenSecret>) => ({
  ...s,
  data: Object.fromEntries(Object.entries((s as { stringData: Record<string, string> }).stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

describe('bootstrap tokens', () => {
  it('makes tokens of the right shape that read back from their Secret as made', () => {
    const t = newBootstrapToken({ ttlMs: 3_600_000, description: 'joins a', now: Date.UTC(2026, 0, 1) });
    expect(tokenText(t)).toMatch(BOOTSTRAP_TOKEN);
    const secret = bootstrapTokenSecret(t);
    expect(secret.metadata?.name).toBe(`bootstrap-token-${t.id}`);
    expect(readBootstrapToken(stored(secret))).toEqual({ ...t, expiration: new Date('2026-01-01T01:00:00Z') });
    expect(isExpired(t, Date.UTC(2026, 0, 1, 0, 59))).toBe(false);
    expect(isExpired(t, Date.UTC(2026, 0, 1, 1))).toBe(true);
  });

  it('reads nothing from a Secret of another type or one named for another token, and refuses bad usages and groups', () => {
    const t = newBootstrapToken({});
    const s = stored(bootstrapTokenSecret(t));
    expect(readBootstrapToken({ ...s, type: 'Opaque' })).toBeNull();
    expect(readBootstrapToken({ ...s, metadata: { name: 'bootstrap-token-zzzzzz' } })).toBeNull();
    expect(tokenRefusal({ usages: ['signing', 'root'], groups: [] })).toBe('unknown usage "root": use signing, authentication');
    expect(tokenRefusal({ usages: [], groups: ['system:masters'] })).toMatch(/^group "system:masters" must match/);
  });
});

describe('cluster-info', () => {
  it("verifies a token's signature over the kubeconfig, and nothing else", async () => {
    const ca = await createCA('test-ca', 1);
    const kubeconfig = clusterInfoKubeconfig('https://10.0.0.1:6443', ca.cert);
    expect(readClusterInfoKubeconfig(kubeconfig)).toEqual({ server: 'https://10.0.0.1:6443', ca: ca.cert });
    const token = newBootstrapToken({});
    const jws = await signKubeconfig(kubeconfig, token);
    expect(jws).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(await verifyKubeconfig(kubeconfig, jws, token)).toBe(true);
    expect(await verifyKubeconfig(kubeconfig, jws, { ...token, secret: 'x'.repeat(16) })).toBe(false);
    expect(await verifyKubeconfig(`${kubeconfig}# changed`, jws, token)).toBe(false);
    expect(await verifyKubeconfig(kubeconfig, jws, { ...token, id: 'other1' })).toBe(false);
  });

  it('pins a CA by the SHA-256 of its public key, as openssl computes it', async () => {
    const ca = await createCA('test-ca', 1);
    const der = execFileSync('sh', ['-c', 'openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum'], { input: ca.cert });
    expect(await caCertHash(ca.cert)).toBe(`sha256:${der.toString().split(' ')[0]}`);
  });
});
