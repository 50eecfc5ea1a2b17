import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../../apimachinery/index.ts';
import { SignJWT, calculateJwkThumbprint, exportJWK, importPKCS8, importSPKI, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const LEGACY_ISSUER = 'kubernetes/serviceaccount';
const LEGACY = 'kubernetes.io/serviceaccount';

/** The user name a service account authenticates as, and its tokens name as their subject. */
export const serviceAccountUserName = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

/** What a legacy (Secret-held) service account token says of itself. */
export interface LegacyClaims {
  namespace: string;
  secretName: string;
  serviceAccountName: string;
  serviceAccountUid: string;
}

/** The private claims Kubernetes puts in bound service account tokens. */
export interface ServiceAccountClaims {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
}

export interface VerifiedToken {
  claims: ServiceAccountClaims;
  audiences: string[];
  expiresAt: number;
}

/**
 * Signs and verifies service account JWTs (ES256) with the cluster's
 * service-account key, made in the PKI directory on first start.
 */
export class ServiceAccountTokens {
  readonly issuer: string;
  readonly #privateKey: CryptoKey;
  readonly #publicKey: CryptoKey;
  readonly #kid: string;

  private constructor(issuer: string, privateKey: CryptoKey, publicKey: CryptoKey, kid: string) {
    this.issuer = issuer;
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    this.#kid = kid;
  }

  static async load(pkiDir: string, issuer = DEFAULT_ISSUER): Promise<ServiceAccountTokens> {
    const keyPath = join(pkiDir, 'sa.key');
    const pubPath = join(pkiDir, 'sa.pub');
    if (!(await pathExists(keyPath)) || !(await pathExists(pubPath))) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      await writeFile(pubPath, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
    }
    const privateKey = await importPKCS8(await readFile(keyPath, 'utf8'), 'ES256');
    const publicKey = await importSPKI(await readFile(pubPath, 'utf8'), 'ES256', { extractable: true });
    const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
    return new ServiceAccountTokens(issuer, privateKey, publicKey, kid);
  }

  async issue(claims: ServiceAccountClaims, opts: { audiences: string[]; expirationSeconds: number }): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + opts.expirationSeconds;
    const token = await new SignJWT({ 'kubernetes.io': claims })
      .setProtectedHeader({ alg: 'ES256', kid: this.#kid })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUserName(claims.namespace, claims.serviceaccount.name))
      .setAudience(opts.audiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .sign(this.#privateKey);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * A legacy token for a kubernetes.io/service-account-token Secret: signed by
   * the same key, issued by kubernetes/serviceaccount, with no audience and no
   * expiry (it lives as long as its Secret and its account).
   */
  async issueLegacy(c: LegacyClaims): Promise<string> {
    return new SignJWT({
      [`${LEGACY}/namespace`]: c.namespace,
      [`${LEGACY}/secret.name`]: c.secretName,
      [`${LEGACY}/service-account.name`]: c.serviceAccountName,
      [`${LEGACY}/service-account.uid`]: c.serviceAccountUid,
    })
      .setProtectedHeader({ alg: 'ES256', kid: this.#kid })
      .setIssuer(LEGACY_ISSUER)
      .setSubject(serviceAccountUserName(c.namespace, c.serviceAccountName))
      .sign(this.#privateKey);
  }

  /** A legacy token's claims if this key signed it; null otherwise. */
  async verifyLegacy(token: string): Promise<LegacyClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.#publicKey, { issuer: LEGACY_ISSUER, algorithms: ['ES256'] });
      const claim = (k: string) => payload[`${LEGACY}/${k}`];
      const c = {
        namespace: claim('namespace'),
        secretName: claim('secret.name'),
        serviceAccountName: claim('service-account.name'),
        serviceAccountUid: claim('service-account.uid'),
      };
      return Object.values(c).every((v) => typeof v === 'string' && v) ? (c as LegacyClaims) : null;
    } catch {
      return null;
    }
  }

  /** The key tokens are verified with, as a JWK Set (what /openid/v1/jwks serves). */
  async jwks(): Promise<{ keys: object[] }> {
    return { keys: [{ ...(await exportJWK(this.#publicKey)), kid: this.#kid, use: 'sig', alg: 'ES256' }] };
  }

  /** The OpenID provider configuration others verify tokens with (/.well-known/openid-configuration). */
  discovery(): object {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer.replace(/\/+$/, '')}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    };
  }

  /** The token's claims if it is ours, unexpired and for one of `audiences`; null otherwise. */
  async verify(token: string, audiences: string[]): Promise<VerifiedToken | null> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#publicKey, { issuer: this.issuer, audience: audiences, algorithms: ['ES256'] }));
    } catch {
      return null;
    }
    const claims = payload['kubernetes.io'] as ServiceAccountClaims | undefined;
    if (!claims?.namespace || !claims.serviceaccount?.name) return null;
    const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    return { claims, audiences: aud, expiresAt: (payload.exp ?? 0) * 1000 };
  }
}
