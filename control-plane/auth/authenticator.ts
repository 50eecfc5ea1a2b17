import type { IncomingMessage } from 'node:http';
import { ApiError, certificateUser } from '../../apimachinery/index.ts';
import type { TokenAuthenticator } from './token-authenticators.ts';
import type { UserInfo } from './types.ts';

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/**
 * The paths a request without credentials may reach as system:anonymous
 * (RBAC still decides): health and version (what the system:public-info-viewer
 * role grants), the cluster-info ConfigMap token discovery reads before it
 * trusts the server, and service account issuer discovery (open to outside
 * verifiers once bound to system:unauthenticated), as an
 * AuthenticationConfiguration with anonymous conditions would list them.
 * Anywhere else such a request is a 401, as with kube-apiserver's
 * --anonymous-auth=false (k3s's setting): /metrics is never served
 * anonymously.
 */
export const ANONYMOUS_PATHS: ReadonlySet<string> = new Set([
  '/healthz',
  '/livez',
  '/readyz',
  '/version',
  '/version/',
  '/api/v1/namespaces/kube-public/configmaps/cluster-info',
  '/.well-known/openid-configuration',
  '/openid/v1/jwks',
]);

function withAuthenticated(u: UserInfo): UserInfo {
  return u.groups.includes('system:authenticated') ? u : { ...u, groups: [...u.groups, 'system:authenticated'] };
}

export interface AuthenticatorOptions {
  tokens: TokenAuthenticator[];
  /** what tokens must be for to be accepted here (kube-apiserver's --api-audiences) */
  apiAudiences: string[];
  /** whether a request without credentials is anonymous on ANONYMOUS_PATHS (true) or refused everywhere (--anonymous-auth=false) */
  anonymous: boolean;
}

/**
 * Establishes who sent a request: a client certificate, else a bearer token
 * (each token authenticator in turn), else anonymous on ANONYMOUS_PATHS. A
 * token nobody accepts, or no credentials elsewhere, is a 401.
 */
export class Authenticator {
  readonly #tokens: TokenAuthenticator[];
  readonly #apiAudiences: string[];
  readonly #anonymous: boolean;

  constructor(o: AuthenticatorOptions) {
    this.#tokens = o.tokens;
    this.#apiAudiences = o.apiAudiences;
    this.#anonymous = o.anonymous;
  }

  /**
   * The user a token names and the audiences it is good for among those
   * asked for (the API server's by default), as kube-apiserver intersects
   * them; null when it is nobody's, or for none of them. Tokens that name
   * no audience (static, bootstrap) are good for the API server's only.
   */
  async authenticateToken(token: string, audiences: string[] = this.#apiAudiences): Promise<{ user: UserInfo; audiences: string[] } | null> {
    for (const t of this.#tokens) {
      const found = await t.authenticate(token, audiences);
      if (!found) continue;
      const good = found.audiences ?? audiences.filter((a) => this.#apiAudiences.includes(a));
      return good.length ? { user: withAuthenticated(found.user), audiences: good } : null;
    }
    return null;
  }

  async authenticate(req: IncomingMessage): Promise<UserInfo> {
    const fromCert = certificateUser(req);
    if (fromCert) return withAuthenticated(fromCert);
    const header = req.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const found = m ? await this.authenticateToken(m[1] as string) : null;
      if (!found) throw new ApiError('Unauthorized', 'Unauthorized');
      return found.user;
    }
    const path = (req.url ?? '/').split('?')[0] as string;
    if (this.#anonymous && ANONYMOUS_PATHS.has(path)) return ANONYMOUS;
    throw new ApiError('Unauthorized', 'Unauthorized');
  }
}
