// Service account issuer discovery: what the API server serves at
// /.well-known/openid-configuration and /openid/v1/jwks lets anyone who may
// read it verify a service account token offline, as an external system
// (a cloud's identity federation, Vault) does; anonymous reads are refused.
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { anonymousGet } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

const api = useTestApiServer('sk-oidc-', ['--disable-scheduler', '--disable-controllers']);

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
});
