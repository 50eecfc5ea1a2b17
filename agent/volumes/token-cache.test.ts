import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { RestClient } from '../../apimachinery/index.ts';
import { ServiceAccountTokenCache } from './token-cache.ts';

describe('service account tokens for projected volumes', () => {
  it('asks for a token bound to the pod, reuses it, and asks again once 80% of its life has passed', async () => {
    let now = 1_000_000;
    const requests: Array<{ ref: object; body: { spec: { expirationSeconds: number; audiences?: string[]; boundObjectRef: object } } }> = [];
    const client = {
      create: async (ref: object, body: (typeof requests)[number]['body']) => {
        requests.push({ ref, body });
        return { status: { token: `t${requests.length}`, expirationTimestamp: new Date(now + body.spec.expirationSeconds * 1000).toISOString() } };
      },
    } as unknown as RestClient;
    const due: string[] = [];
    const cache = new ServiceAccountTokenCache(
      client,
      (uid) => due.push(uid),
      () => now,
    );
    const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { serviceAccountName: 'robot', containers: [] } };
    expect(await cache.get(pod, undefined, 3600)).toBe('t1');
    expect(requests[0]).toMatchObject({
      ref: { resource: 'serviceaccounts', namespace: 'ns', name: 'robot', subresource: 'token' },
      body: { spec: { expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', name: 'p', uid: 'u1' } } },
    });
    expect(requests[0]?.body.spec.audiences).toBeUndefined();
    now += 2000 * 1000;
    expect(await cache.get(pod, undefined, 3600)).toBe('t1');
    now += 900 * 1000;
    expect(await cache.get(pod, undefined, 3600)).toBe('t2');
    expect(await cache.get(pod, 'vault', 3600)).toBe('t3');
    expect(requests[2]?.body.spec.audiences).toEqual(['vault']);
  });
});
