import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { RestClient } from '../../apimachinery/index.ts';
import { KubeletAuth, kubeletAttributes } from './kubelet-auth.ts';

/** An API server that allows what `allowed` says and counts the reviews it is sent. */
function fakeApi(allowed: (spec: { user: string; resourceAttributes: { verb: string; subresource: string } }) => boolean) {
  const calls = { sar: 0, tokenReview: 0 };
  const client = {
    create: async (ref: { resource: string }, body: { spec: never }) => {
      if (ref.resource === 'tokenreviews') {
        calls.tokenReview++;
        const ok = (body.spec as { token: string }).token === 'good-token';
        return {
          status: ok
            ? { authenticated: true, user: { username: 'system:serviceaccount:monitoring:prometheus', groups: ['system:serviceaccounts'] } }
            : { authenticated: false },
        };
      }
      calls.sar++;
      return { status: { allowed: allowed(body.spec) } };
    },
  } as unknown as RestClient;
  return { client, calls };
}

const request = (method: string, o: { cn?: string; o?: string[]; bearer?: string }): IncomingMessage =>
  ({
    method,
    headers: o.bearer ? { authorization: `Bearer ${o.bearer}` } : {},
    socket: { authorized: o.cn !== undefined, getPeerCertificate: () => ({ subject: { CN: o.cn, O: o.o } }) },
  }) as unknown as IncomingMessage;

describe('kubelet API authorization', () => {
  it("maps paths and methods to the kubelet's subresources and verbs", () => {
    const subs = (method: string, path: string) => kubeletAttributes(method, path, 'n1').map((a) => `${a.verb} nodes/${a.subresource}`);
    expect(subs('GET', '/stats/summary')).toEqual(['get nodes/stats']);
    expect(subs('GET', '/metrics/resource')).toEqual(['get nodes/metrics']);
    expect(subs('GET', '/pods')).toEqual(['get nodes/pods', 'get nodes/proxy']);
    expect(subs('GET', '/containerLogs/default/web/c')).toEqual(['get nodes/proxy']);
    expect(subs('POST', '/exec/default/web/c')).toEqual(['create nodes/proxy']);
    expect(subs('GET', '/statsx')).toEqual(['get nodes/proxy']);
  });

  it('refuses a cluster certificate without the right (403, word for word), and asks again only after the cache runs out', async () => {
    let now = 0;
    const { client, calls } = fakeApi((s) => s.user === 'kube-apiserver-kubelet-client');
    const auth = new KubeletAuth(client, 'n1', { now: () => now });
    await expect(auth.check(request('POST', { cn: 'system:node:n2', o: ['system:nodes'] }), '/exec/default/web/c')).rejects.toMatchObject({
      code: 403,
      message: 'Forbidden (user=system:node:n2, verb=create, resource=nodes, subresource=proxy)',
    });
    await expect(auth.check(request('POST', { cn: 'system:node:n2', o: ['system:nodes'] }), '/exec/default/web/c')).rejects.toMatchObject({ code: 403 });
    expect(calls.sar).toBe(1);
    now += 31_000;
    await expect(auth.check(request('POST', { cn: 'system:node:n2', o: ['system:nodes'] }), '/exec/default/web/c')).rejects.toMatchObject({ code: 403 });
    expect(calls.sar).toBe(2);
    expect(await auth.check(request('GET', { cn: 'kube-apiserver-kubelet-client' }), '/containerLogs/default/web/c')).toMatchObject({
      name: 'kube-apiserver-kubelet-client',
    });
  });

  it('refuses a request with neither a cluster certificate nor a valid token (401), and takes a token the API server vouches for', async () => {
    const { client } = fakeApi((s) => s.resourceAttributes.subresource === 'metrics');
    const auth = new KubeletAuth(client, 'n1');
    await expect(auth.check(request('GET', {}), '/metrics')).rejects.toMatchObject({ code: 401, message: 'Unauthorized' });
    await expect(auth.check(request('GET', { bearer: 'forged' }), '/metrics')).rejects.toMatchObject({ code: 401 });
    expect(await auth.check(request('GET', { bearer: 'good-token' }), '/metrics')).toMatchObject({ name: 'system:serviceaccount:monitoring:prometheus' });
    await expect(auth.check(request('GET', { bearer: 'good-token' }), '/stats/summary')).rejects.toMatchObject({
      code: 403,
      message: 'Forbidden (user=system:serviceaccount:monitoring:prometheus, verb=get, resource=nodes, subresource=stats)',
    });
  });
});
