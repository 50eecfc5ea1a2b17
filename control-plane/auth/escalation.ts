import { ApiError } from '../../apimachinery/index.ts';
import type { Obj } from '../api/index.ts';
import type { ClusterAuthorizer } from './authorizer.ts';
import { ruleAllows } from './rules.ts';
import type { PolicyRule, RequestAttributes, UserInfo } from './types.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Every request a rule grants, spelled out ('*' stays literal: only a '*' grant covers it). */
function* grantedRequests(rule: PolicyRule, namespace: string | undefined): Generator<RequestAttributes> {
  for (const verb of rule.verbs ?? []) {
    for (const path of rule.nonResourceURLs ?? []) yield { kind: 'nonResource', verb, path };
    for (const apiGroup of rule.apiGroups ?? []) {
      for (const full of rule.resources ?? []) {
        const [resource, subresource] = full.split('/') as [string, string | undefined];
        const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
        for (const name of names) yield { kind: 'resource', verb, apiGroup, resource, subresource, namespace, name };
      }
    }
  }
}

function covers(held: PolicyRule[], wanted: PolicyRule[], namespace: string | undefined): boolean {
  return wanted.every((w) => [...grantedRequests(w, namespace)].every((a) => held.some((h) => ruleAllows(h, a))));
}

/**
 * RBAC's escalation guard: a user may write a Role or ClusterRole only with
 * rules they hold themselves (or the `escalate` verb), and a binding only to
 * a role whose rules they hold (or the `bind` verb on it).
 */
export function checkEscalation(authz: ClusterAuthorizer, user: UserInfo, resource: string, obj: Obj): void {
  const namespace = obj.metadata.namespace;
  const held = authz.rulesFor(user, namespace ?? '');
  const refused = () =>
    new ApiError(
      'Forbidden',
      `${resource}.${RBAC_GROUP} "${obj.metadata.name}" is forbidden: user "${user.name}" (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held`,
    );
  const may = (verb: string, name: string) => authz.authorize(user, { kind: 'resource', verb, apiGroup: RBAC_GROUP, resource, namespace, name }).allowed;
  if (resource === 'roles' || resource === 'clusterroles') {
    if (covers(held, (obj.rules as PolicyRule[] | undefined) ?? [], namespace) || may('escalate', obj.metadata.name as string)) return;
    throw refused();
  }
  if (resource === 'rolebindings' || resource === 'clusterrolebindings') {
    const ref = obj.roleRef as { kind?: string; name?: string } | undefined;
    if (!ref?.name) return; // validation reports it
    const roleResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
    const bindAllowed = authz.authorize(user, {
      kind: 'resource',
      verb: 'bind',
      apiGroup: RBAC_GROUP,
      resource: roleResource,
      namespace: ref.kind === 'ClusterRole' ? undefined : namespace,
      name: ref.name,
    }).allowed;
    if (bindAllowed || covers(held, authz.roleRules(ref.kind ?? '', ref.name, namespace), namespace)) return;
    throw refused();
  }
}
