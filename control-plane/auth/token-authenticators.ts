import { BOOTSTRAP_TOKEN, BOOTSTRAP_TOKEN_NAMESPACE, isExpired, readBootstrapToken, secretName } from '../../apimachinery/index.ts';
import { readFile } from 'node:fs/promises';
import type { ObjectReader } from '../api/index.ts';
import { serviceAccountUserName, type ServiceAccountTokens } from './service-account-token.ts';
import type { UserInfo } from './types.ts';

/**
 * Turns a bearer token into a user, or null when the token is not its kind.
 * An authenticator whose tokens name audiences sets `audiences` on the
 * result: those of the token among the `audiences` asked for (null when
 * none is); the others leave it to the Authenticator.
 */
export interface TokenAuthenticator {
  authenticate(token: string, audiences: string[]): Promise<{ user: UserInfo; audiences?: string[] } | null>;
}

/** One CSV line's fields; a quoted field may hold commas. */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      fields.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  fields.push(cur.trim());
  return fields;
}

/**
 * --token-auth-file: CSV lines `token,user,uid,"group1,group2"`, as
 * kube-apiserver reads them.
 */
export class StaticTokenFile implements TokenAuthenticator {
  readonly #users = new Map<string, UserInfo>();

  static async load(path: string): Promise<StaticTokenFile> {
    const file = new StaticTokenFile();
    for (const [i, line] of (await readFile(path, 'utf8')).split('\n').entries()) {
      if (!line.trim() || line.trim().startsWith('#')) continue;
      const fields = csvFields(line);
      const [token, name, uid, groups] = fields;
      if (!token || !name) throw new Error(`${path}:${i + 1}: a token line needs at least token,user`);
      file.#users.set(token, {
        name,
        uid: uid || undefined,
        groups: groups
          ? groups
              .split(',')
              .map((g) => g.trim())
              .filter(Boolean)
          : [],
      });
    }
    return file;
  }

  async authenticate(token: string): Promise<{ user: UserInfo } | null> {
    const u = this.#users.get(token);
    return u ? { user: { ...u, groups: [...u.groups] } } : null;
  }
}

/** Who a service account's token authenticates as. */
function serviceAccountUser(namespace: string, name: string, uid: string): UserInfo {
  return { name: serviceAccountUserName(namespace, name), uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`] };
}

/**
 * Service account JWTs: bound ones (valid signature, and the account and pod
 * still there with the same uids), and legacy ones held in
 * kubernetes.io/service-account-token Secrets (the Secret still holds this
 * very token, and the account is still the one it was made for).
 */
export class ServiceAccountAuthenticator implements TokenAuthenticator {
  readonly #tokens: ServiceAccountTokens;
  readonly #serviceAccounts: ObjectReader;
  readonly #pods: ObjectReader;
  readonly #secrets: ObjectReader;

  constructor(tokens: ServiceAccountTokens, readers: { serviceAccounts: ObjectReader; pods: ObjectReader; secrets: ObjectReader }) {
    this.#tokens = tokens;
    this.#serviceAccounts = readers.serviceAccounts;
    this.#pods = readers.pods;
    this.#secrets = readers.secrets;
  }

  /** Whether the service account a token was made for is still there as the same object (one that cannot be read cannot vouch for it). */
  async #accountStands(namespace: string, name: string, uid: string): Promise<boolean> {
    const sa = await this.#serviceAccounts.get(namespace, name).catch(() => null);
    return !!sa && sa.metadata.uid === uid;
  }

  async #legacy(token: string, audiences: string[]): Promise<{ user: UserInfo; audiences: string[] } | null> {
    const c = await this.#tokens.verifyLegacy(token);
    if (!c) return null;
    const secret = await this.#secrets.get(c.namespace, c.secretName).catch(() => null);
    const held = (secret as { data?: Record<string, string> } | null)?.data?.token;
    if (!held || Buffer.from(held, 'base64').toString() !== token) return null;
    if (!(await this.#accountStands(c.namespace, c.serviceAccountName, c.serviceAccountUid))) return null;
    // a legacy token names no audience: it is good for this server's
    return { user: serviceAccountUser(c.namespace, c.serviceAccountName, c.serviceAccountUid), audiences };
  }

  async authenticate(token: string, audiences: string[]): Promise<{ user: UserInfo; audiences: string[] } | null> {
    if (token.split('.').length !== 3) return null;
    const verified = await this.#tokens.verify(token, audiences);
    if (!verified) return this.#legacy(token, audiences);
    const { namespace, serviceaccount, pod } = verified.claims;
    if (!(await this.#accountStands(namespace, serviceaccount.name, serviceaccount.uid))) return null;
    // a pod that cannot be read cannot vouch for the token either
    if (pod) {
      const p = await this.#pods.get(namespace, pod.name).catch(() => null);
      if (!p || p.metadata.uid !== pod.uid || p.metadata.deletionTimestamp) return null;
    }
    const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${serviceaccount.uid}`] };
    if (pod) {
      extra['authentication.kubernetes.io/pod-name'] = [pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [pod.uid];
    }
    const user = { ...serviceAccountUser(namespace, serviceaccount.name, serviceaccount.uid), extra };
    return { user, audiences: audiences.filter((a) => verified.audiences.includes(a)) };
  }
}

/** Bootstrap tokens: kube-system Secrets `bootstrap-token-<id>` of type bootstrap.kubernetes.io/token. */
export class BootstrapTokenAuthenticator implements TokenAuthenticator {
  readonly #secrets: ObjectReader;

  constructor(secrets: ObjectReader) {
    this.#secrets = secrets;
  }

  async authenticate(token: string): Promise<{ user: UserInfo } | null> {
    const m = BOOTSTRAP_TOKEN.exec(token);
    if (!m) return null;
    const [, id, secret] = m as unknown as [string, string, string];
    // no such token secret: unauthenticated
    const s = await this.#secrets.get(BOOTSTRAP_TOKEN_NAMESPACE, secretName(id)).catch(() => null);
    if (!s || s.metadata.deletionTimestamp) return null;
    const stored = readBootstrapToken(s as Parameters<typeof readBootstrapToken>[0]);
    if (!stored || stored.secret !== secret || !stored.usages.includes('authentication') || isExpired(stored, Date.now())) return null;
    const extraGroups = stored.groups;
    return { user: { name: `system:bootstrap:${id}`, groups: ['system:bootstrappers', ...extraGroups] } };
  }
}
