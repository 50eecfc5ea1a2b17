import { randomInt } from 'node:crypto';
import type { Secret } from 'kubernetes-types/core/v1.js';

/** A bootstrap token as kubeadm spells it: a public id and a secret, `[a-z0-9]{6}.[a-z0-9]{16}`. */
export const BOOTSTRAP_TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const BOOTSTRAP_TOKEN_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_NAMESPACE = 'kube-system';
/** The group every bootstrap token's user is in; extra groups must start with it and a colon. */
export const BOOTSTRAPPERS = 'system:bootstrappers';
/** The group skiff's join tokens add, as kubeadm's system:bootstrappers:kubeadm:default-node-token. */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:skiff:default-node-token';
export const TOKEN_USAGES = ['signing', 'authentication'] as const;
/**
 * The kube-system Secret the cluster CA and service-account keys travel in,
 * sealed, for a second server to join with (kubeadm's kubeadm-certs); join
 * tokens may read it, and only the certificate key opens it.
 */
export const CONTROL_PLANE_CERTS_SECRET = 'skiff-certs';

export interface BootstrapToken {
  id: string;
  secret: string;
  description?: string;
  /** when it stops working; none: never */
  expiration?: Date;
  usages: string[];
  groups: string[];
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const randomText = (length: number) => Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

export const secretName = (id: string) => `bootstrap-token-${id}`;
export const tokenText = (t: Pick<BootstrapToken, 'id' | 'secret'>) => `${t.id}.${t.secret}`;

/** A fresh token: a random id and secret from a cryptographic source. */
export function newBootstrapToken(o: { ttlMs?: number; description?: string; usages?: string[]; groups?: string[]; now?: number }): BootstrapToken {
  return {
    id: randomText(6),
    secret: randomText(16),
    description: o.description,
    expiration: o.ttlMs ? new Date((o.now ?? Date.now()) + o.ttlMs) : undefined,
    usages: o.usages ?? [...TOKEN_USAGES],
    groups: o.groups ?? [DEFAULT_NODE_TOKEN_GROUP],
  };
}

/** Why a token's usages or groups are not ones Kubernetes accepts, or null. */
export function tokenRefusal(t: Pick<BootstrapToken, 'usages' | 'groups'>): string | null {
  const badUsage = t.usages.find((u) => !(TOKEN_USAGES as readonly string[]).includes(u));
  if (badUsage) return `unknown usage "${badUsage}": use ${TOKEN_USAGES.join(', ')}`;
  const badGroup = t.groups.find((g) => !/^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(g));
  if (badGroup) return `group "${badGroup}" must match system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]`;
  return null;
}

/** The kube-system Secret that is the token, as the bootstrap token authenticator and kubeadm read it. */
export function bootstrapTokenSecret(t: BootstrapToken): Secret {
  const data: Record<string, string> = {
    'token-id': t.id,
    'token-secret': t.secret,
    ...(t.description ? { description: t.description } : {}),
    ...(t.expiration ? { expiration: t.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
    ...Object.fromEntries(t.usages.map((u) => [`usage-bootstrap-${u}`, 'true'])),
    ...(t.groups.length ? { 'auth-extra-groups': t.groups.join(',') } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName(t.id), namespace: BOOTSTRAP_TOKEN_NAMESPACE },
    type: BOOTSTRAP_TOKEN_TYPE,
    stringData: data,
  } as Secret;
}

/** The token a Secret holds, or null when it is not a well-formed bootstrap token Secret. */
export function readBootstrapToken(s: { type?: string; metadata?: { name?: string }; data?: Record<string, string> } | undefined): BootstrapToken | null {
  if (s?.type !== BOOTSTRAP_TOKEN_TYPE) return null;
  const data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  const id = data['token-id'] ?? '';
  const secret = data['token-secret'] ?? '';
  if (!BOOTSTRAP_TOKEN.test(`${id}.${secret}`) || s.metadata?.name !== secretName(id)) return null;
  const expiration = data.expiration ? new Date(data.expiration) : undefined;
  return {
    id,
    secret,
    description: data.description,
    // an expiration that does not parse is no expiration Kubernetes would honour: the token is treated as expired
    expiration: expiration && Number.isNaN(expiration.getTime()) ? new Date(0) : expiration,
    usages: TOKEN_USAGES.filter((u) => data[`usage-bootstrap-${u}`] === 'true'),
    groups: (data['auth-extra-groups'] ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g.startsWith(`${BOOTSTRAPPERS}:`)),
  };
}

export const isExpired = (t: BootstrapToken, now: number) => !!t.expiration && t.expiration.getTime() <= now;
