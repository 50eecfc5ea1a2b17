import type { IncomingMessage } from 'node:http';
import { ApiError, certificateUser } from '../../apimachinery/index.ts';
import type { TokenAuthenticator } from './token-authenticators.ts';
import type { UserInfo } from './types.ts';

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

function withAuthenticated(u: UserInfo): UserInfo {
  return u.groups.includes('system:authenticated') ? u : { ...u, groups: [...u.groups, 'system:authenticated'] };
}

/**
 * Establishes who sent a request: a client certificate, else a bearer token
 * (each token authenticator in turn), else anonymous. A token nobody accepts
 * is a 401, not anonymous.
 */
export class Authenticator {
  readonly #tokens: TokenAuthenticator[];
  readonly #apiAudiences: string[];

  /** `apiAudiences`: what tokens must be for to be accepted here (kube-apiserver's --api-audiences) */
  constructor(tokens: TokenAuthenticator[], apiAudiences: string[]) {
    this.#tokens = tokens;
    this.#apiAudiences = apiAudiences;
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
    return ANONYMOUS;
  }
}
