import type { IncomingMessage } from 'node:http';
import { certificateUser, type RestClient } from '../../apimachinery/index.ts';

/** Who a kubelet API request is from. */
export interface KubeletUser {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a kubelet API request does, as the API server's authorizers see it: a verb on a subresource of this Node. */
export interface KubeletAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  name: string;
}

/** Refused by authentication (401) or authorization (403), with the kubelet's words. */
export class KubeletAuthError extends Error {
  readonly code: 401 | 403;
  constructor(code: 401 | 403, message: string) {
    super(message);
    this.code = code;
  }
}

/** The API's verbs for HTTP methods, as the kubelet maps them. */
const VERBS: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/**
 * The attributes to authorize a request by, most specific first: any one
 * allowed lets it through (the kubelet's fine-grained subresources, each
 * with nodes/proxy as the fallback that has always covered them).
 */
export function kubeletAttributes(method: string, path: string, nodeName: string): KubeletAttributes[] {
  const verb = VERBS[method] ?? method.toLowerCase();
  const subresources = under(path, '/stats')
    ? ['stats']
    : under(path, '/metrics')
      ? ['metrics']
      : under(path, '/logs')
        ? ['log']
        : under(path, '/spec')
          ? ['spec']
          : under(path, '/checkpoint')
            ? ['checkpoint']
            : under(path, '/pods')
              ? ['pods', 'proxy']
              : under(path, '/healthz')
                ? ['healthz', 'proxy']
                : under(path, '/configz')
                  ? ['configz', 'proxy']
                  : ['proxy'];
  return subresources.map((subresource) => ({ verb, resource: 'nodes', subresource, name: nodeName }));
}

interface Cached<T> {
  value: T;
  until: number;
}

/** A cache whose entries live `ttlMs(value)`; small, as the kubelet's webhook caches are. */
class TtlCache<T> {
  readonly #entries = new Map<string, Cached<T>>();
  readonly #now: () => number;
  constructor(now: () => number) {
    this.#now = now;
  }
  get(key: string): T | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.until > this.#now()) return e.value;
    this.#entries.delete(key);
    return undefined;
  }
  set(key: string, value: T, ttlMs: number): void {
    // the kubelet bounds its caches too: drop the oldest past a few thousand entries
    if (this.#entries.size >= 4096) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, { value, until: this.#now() + ttlMs });
  }
}

export interface KubeletAuthOptions {
  /** Webhook (the default): ask the API server; AlwaysAllow: every authenticated client may do anything */
  mode?: 'Webhook' | 'AlwaysAllow';
  /** how long an allowed / denied answer is reused (the kubelet's webhook defaults: 5 min, 30 s) */
  allowTtlMs?: number;
  denyTtlMs?: number;
  /** how long an authenticated bearer token is reused (2 min) */
  tokenTtlMs?: number;
  now?: () => number;
}

/**
 * The kubelet API's webhook authentication and authorization: a client
 * certificate from the cluster CA (its CN and O as user and groups) or a
 * bearer token the API server vouches for (TokenReview), then a
 * SubjectAccessReview for each request's attributes, answers cached.
 */
export class KubeletAuth {
  readonly #client: RestClient;
  readonly #nodeName: string;
  readonly #decisions: TtlCache<boolean>;
  readonly #tokens: TtlCache<KubeletUser | null>;
  readonly #opts: Required<Omit<KubeletAuthOptions, 'now'>>;

  constructor(client: RestClient, nodeName: string, opts: KubeletAuthOptions = {}) {
    this.#client = client;
    this.#nodeName = nodeName;
    const now = opts.now ?? Date.now;
    this.#decisions = new TtlCache(now);
    this.#tokens = new TtlCache(now);
    this.#opts = {
      mode: opts.mode ?? 'Webhook',
      allowTtlMs: opts.allowTtlMs ?? 300_000,
      denyTtlMs: opts.denyTtlMs ?? 30_000,
      tokenTtlMs: opts.tokenTtlMs ?? 120_000,
    };
  }

  /** Authenticates and authorizes a request; resolves with its user, or throws KubeletAuthError. */
  async check(req: IncomingMessage, path: string): Promise<KubeletUser> {
    const user = await this.authenticate(req);
    if (!user) throw new KubeletAuthError(401, 'Unauthorized');
    const attributes = kubeletAttributes(req.method ?? 'GET', path, this.#nodeName);
    for (const a of attributes) {
      if (await this.authorize(user, a)) return user;
    }
    const a = attributes[0] as KubeletAttributes;
    throw new KubeletAuthError(403, `Forbidden (user=${user.name}, verb=${a.verb}, resource=${a.resource}, subresource=${a.subresource})`);
  }

  async authenticate(req: IncomingMessage): Promise<KubeletUser | undefined> {
    const fromCert = certificateUser(req);
    if (fromCert?.name) return { name: fromCert.name, groups: [...fromCert.groups, 'system:authenticated'] };
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return bearer ? ((await this.#reviewToken(bearer)) ?? undefined) : undefined;
  }

  async #reviewToken(token: string): Promise<KubeletUser | null> {
    const cached = this.#tokens.get(token);
    if (cached !== undefined) return cached;
    const review = await this.#client.create<{
      status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
    }>({ group: 'authentication.k8s.io', resource: 'tokenreviews' }, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    const u = review.status?.user;
    const user = review.status?.authenticated && u?.username ? { name: u.username, uid: u.uid, groups: u.groups ?? [], extra: u.extra } : null;
    this.#tokens.set(token, user, this.#opts.tokenTtlMs);
    return user;
  }

  async authorize(user: KubeletUser, a: KubeletAttributes): Promise<boolean> {
    if (this.#opts.mode === 'AlwaysAllow') return true;
    const key = JSON.stringify([user.name, user.uid, user.groups, user.extra, a]);
    const cached = this.#decisions.get(key);
    if (cached !== undefined) return cached;
    const review = await this.#client.create<{ status?: { allowed?: boolean } }>(
      { group: 'authorization.k8s.io', resource: 'subjectaccessreviews' },
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: user.name, uid: user.uid, groups: user.groups, extra: user.extra, resourceAttributes: a },
      },
    );
    const allowed = review.status?.allowed === true;
    this.#decisions.set(key, allowed, allowed ? this.#opts.allowTtlMs : this.#opts.denyTtlMs);
    return allowed;
  }
}
