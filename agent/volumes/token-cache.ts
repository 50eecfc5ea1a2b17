import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RestClient } from '../../apimachinery/index.ts';

interface Cached {
  token: string;
  fetchedAt: number;
  expiresAt: number;
}

/** A token is refreshed once 80% of its lifetime has passed, or after a day, as the kubelet's token manager does. */
const REFRESH_FRACTION = 0.8;
const MAX_AGE_MS = 24 * 3600_000;

/**
 * Bound service account tokens for projected volumes: requested from the
 * API server (serviceaccounts/token, bound to the pod), kept until they are
 * due for refresh, and at that moment the pod is synced again so its
 * volume gets the new one.
 */
export class ServiceAccountTokenCache {
  #client: RestClient;
  #due: (uid: string) => void;
  #now: () => number;
  #tokens = new Map<string, Cached>();

  constructor(client: RestClient, due: (uid: string) => void, now: () => number = Date.now) {
    this.#client = client;
    this.#due = due;
    this.#now = now;
  }

  async get(pod: Pod, audience: string | undefined, expirationSeconds: number): Promise<string> {
    const uid = pod.metadata?.uid ?? '';
    const key = `${uid}/${audience ?? ''}/${expirationSeconds}`;
    const now = this.#now();
    const cached = this.#tokens.get(key);
    if (cached && now < this.#refreshAt(cached)) return cached.token;
    for (const [k, c] of this.#tokens) if (c.expiresAt <= now) this.#tokens.delete(k);
    const ns = pod.metadata?.namespace ?? 'default';
    const res = await this.#client.create<{ status?: { token?: string; expirationTimestamp?: string } }>(
      { resource: 'serviceaccounts', namespace: ns, name: pod.spec?.serviceAccountName || 'default', subresource: 'token' },
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          ...(audience ? { audiences: [audience] } : {}),
          expirationSeconds,
          boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name, uid },
        },
      },
    );
    const token = res.status?.token ?? '';
    const fresh = { token, fetchedAt: now, expiresAt: Date.parse(res.status?.expirationTimestamp ?? '') || now + expirationSeconds * 1000 };
    this.#tokens.set(key, fresh);
    setTimeout(() => this.#due(uid), Math.max(1000, this.#refreshAt(fresh) - now)).unref();
    return token;
  }

  #refreshAt(c: Cached): number {
    return Math.min(c.fetchedAt + (c.expiresAt - c.fetchedAt) * REFRESH_FRACTION, c.fetchedAt + MAX_AGE_MS);
  }
}
