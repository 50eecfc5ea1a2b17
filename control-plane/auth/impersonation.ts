import type { IncomingMessage } from 'node:http';
import { forbidden } from './attributes.ts';
import type { ClusterAuthorizer } from './authorizer.ts';
import type { RequestAttributes, UserInfo } from './types.ts';

function headerValues(req: IncomingMessage, name: string): string[] {
  const v = req.headers[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
}

/**
 * Impersonate-User / -Group / -Uid / -Extra-*: the request acts as another
 * user when the real one may `impersonate` each part. Returns the user to act as.
 */
export function impersonate(req: IncomingMessage, real: UserInfo, authz: ClusterAuthorizer): UserInfo {
  const [name] = headerValues(req, 'impersonate-user');
  const groups = headerValues(req, 'impersonate-group');
  const [uid] = headerValues(req, 'impersonate-uid');
  if (!name) return real;
  const checks: RequestAttributes[] = [];
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  checks.push(
    sa
      ? { kind: 'resource', verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] }
      : { kind: 'resource', verb: 'impersonate', apiGroup: '', resource: 'users', name },
  );
  for (const g of groups) checks.push({ kind: 'resource', verb: 'impersonate', apiGroup: '', resource: 'groups', name: g });
  if (uid) checks.push({ kind: 'resource', verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
  const extra: Record<string, string[]> = {};
  for (const [h] of Object.entries(req.headers)) {
    if (!h.startsWith('impersonate-extra-')) continue;
    const key = unescapeExtraKey(h.slice('impersonate-extra-'.length));
    extra[key] = headerValues(req, h);
    for (const value of extra[key])
      checks.push({ kind: 'resource', verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: value });
  }
  for (const a of checks) {
    const decision = authz.authorize(real, a);
    if (!decision.allowed) throw forbidden(real.name, a, decision.reason);
  }
  const implied =
    name === 'system:anonymous' ? [] : sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`, 'system:authenticated'] : ['system:authenticated'];
  return { name, ...(uid ? { uid } : {}), groups: [...new Set([...groups, ...implied])], ...(Object.keys(extra).length ? { extra } : {}) };
}

/** An Impersonate-Extra- key is percent-encoded; one that is not validly so is taken as it is written, as kube-apiserver does. */
function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}
