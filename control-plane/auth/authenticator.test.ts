import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, Authenticator } from './authenticator.ts';

/** A request with no client certificate, to `url`, with the given headers. */
const request = (url: string, headers: Record<string, string> = {}) => ({ url, headers, socket: { authorized: false } }) as unknown as IncomingMessage;

const withAnonymous = (anonymous: boolean) => new Authenticator({ tokens: [], apiAudiences: ['https://kubernetes.default.svc'], anonymous });

describe('Authenticator without credentials', () => {
  it('takes a request as system:anonymous on health, version, cluster-info and issuer discovery only', async () => {
    const auth = withAnonymous(true);
    for (const path of ['/healthz', '/livez', '/readyz?verbose', '/version', '/api/v1/namespaces/kube-public/configmaps/cluster-info', '/openid/v1/jwks'])
      expect(await auth.authenticate(request(path)), path).toEqual(ANONYMOUS);
  });

  it('refuses it with 401 anywhere else: metrics, resources, other health checks, other ConfigMaps', async () => {
    const auth = withAnonymous(true);
    for (const path of ['/metrics', '/api/v1/pods', '/readyz/etcd', '/api/v1/namespaces/kube-public/configmaps', '/api'])
      await expect(auth.authenticate(request(path)), path).rejects.toMatchObject({ code: 401, reason: 'Unauthorized', message: 'Unauthorized' });
  });

  it('refuses it everywhere with --anonymous-auth=false', async () => {
    await expect(withAnonymous(false).authenticate(request('/readyz'))).rejects.toMatchObject({ code: 401 });
  });

  it('refuses a bearer token nobody accepts, even on an anonymous path', async () => {
    await expect(withAnonymous(true).authenticate(request('/readyz', { authorization: 'Bearer nobody.knows' }))).rejects.toMatchObject({ code: 401 });
  });
});
