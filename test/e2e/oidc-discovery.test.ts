// Service account tokens for systems outside the cluster: what the API
// server serves at /.well-known/openid-configuration and /openid/v1/jwks lets
// anyone who may read it verify a token offline, as an external system (a
// cloud's identity federation, Vault) does, and anonymous reads are refused;
// a kubernetes.io/service-account-token Secret is filled with a legacy token
// that authenticates as its account until the account goes (and the Secret
// with it).
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { anonymousGet } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

const api = useTestApiServer('sk-oidc-', ['--disable-scheduler']);

describe('service account issuer discovery', () => {
  it('serves the issuer and its keys to service accounts, and a token verifies against them', async () => {
    await api.kubectl('create', 'serviceaccount', 'reader', '-n', 'default');
    // the reader's own token for the API, and one for another audience to be verified offline
    const asReader = await api.withToken((await api.kubectl('create', 'token', 'reader', '-n', 'default')).trim(), 'reader');
    const token = (await api.kubectl('create', 'token', 'reader', '-n', 'default', '--audience=vault')).trim();
    const config = JSON.parse(await asReader.kubectl('get', '--raw', '/.well-known/openid-configuration')) as { issuer: string; jwks_uri: string };
    expect(config).toMatchObject({ issuer: 'https://kubernetes.default.svc.cluster.local', id_token_signing_alg_values_supported: ['ES256'] });
    expect(config.jwks_uri).toBe('https://kubernetes.default.svc.cluster.local/openid/v1/jwks');
    const jwks = JSON.parse(await asReader.kubectl('get', '--raw', '/openid/v1/jwks')) as JSONWebKeySet;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: config.issuer, audience: 'vault' });
    expect(payload.sub).toBe('system:serviceaccount:default:reader');
    expect((await anonymousGet(api.port, '/openid/v1/jwks')).status).toBe(403);
  });

  it('fills a service-account-token Secret with a token that is its account, until the account goes', async () => {
    await api.kubectl('create', 'serviceaccount', 'legacy', '-n', 'default');
    const applied = await api.kubectlResult(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: Secret\nmetadata: {name: legacy-token, namespace: default, annotations: {kubernetes.io/service-account.name: legacy}}\ntype: kubernetes.io/service-account-token\n',
    );
    expect(applied.code, applied.stderr).toBe(0);
    const read = () => api.kubectl('get', 'secret', 'legacy-token', '-n', 'default', '-o', 'jsonpath={.data.token}');
    await expect.poll(read, { timeout: 20_000 }).not.toBe('');
    const token = Buffer.from(await read(), 'base64').toString();
    expect(await api.kubectl('get', 'secret', 'legacy-token', '-n', 'default', '-o', 'jsonpath={.data.namespace}')).toBe(
      Buffer.from('default').toString('base64'),
    );
    const asLegacy = await api.withToken(token, 'legacy');
    expect(await asLegacy.kubectl('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}')).toBe('system:serviceaccount:default:legacy');
    await api.kubectl('delete', 'serviceaccount', 'legacy', '-n', 'default');
    await expect.poll(async () => (await api.kubectlResult(['get', 'secret', 'legacy-token', '-n', 'default'])).code, { timeout: 20_000 }).not.toBe(0);
    const after = await asLegacy.kubectlResult(['auth', 'whoami']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain('Unauthorized');
  });
});
