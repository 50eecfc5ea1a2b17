import type { Obj, Subscribe } from '../api/index.ts';
import { ObjectCache } from './object-cache.ts';
import { ruleAllows } from './rules.ts';
import { serviceAccountUserName } from './service-account-token.ts';
import { SUPERUSER_GROUP, type PolicyRule, type RequestAttributes, type UserInfo } from './types.ts';

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface Binding extends Obj {
  roleRef: { kind: string; name: string };
  subjects?: Subject[];
}

export interface Decision {
  allowed: boolean;
  /** why, when allowed: the binding and role that allowed it */
  reason: string;
}

function appliesTo(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount':
      return user.name === serviceAccountUserName(s.namespace ?? bindingNamespace ?? '', s.name);
    default:
      return false;
  }
}

/**
 * The RBAC authorizer: allows a request when a ClusterRoleBinding, or a
 * RoleBinding in the request's namespace, grants a rule that matches it.
 * Members of system:masters are allowed everything, as in Kubernetes.
 */
export class RbacAuthorizer {
  readonly #roles: ObjectCache;
  readonly #roleBindings: ObjectCache;
  readonly #clusterRoles: ObjectCache;
  readonly #clusterRoleBindings: ObjectCache;

  /** `feed`: the list-and-watch of one rbac.authorization.k8s.io resource */
  constructor(feed: (resource: string) => Subscribe) {
    this.#roles = new ObjectCache(feed('roles'));
    this.#roleBindings = new ObjectCache(feed('rolebindings'));
    this.#clusterRoles = new ObjectCache(feed('clusterroles'));
    this.#clusterRoleBindings = new ObjectCache(feed('clusterrolebindings'));
  }

  async start(): Promise<void> {
    await Promise.all([this.#roles, this.#roleBindings, this.#clusterRoles, this.#clusterRoleBindings].map((c) => c.start()));
  }

  stop(): void {
    for (const c of [this.#roles, this.#roleBindings, this.#clusterRoles, this.#clusterRoleBindings]) c.stop();
  }

  /** The rules of a Role (in `namespace`) or ClusterRole; none when it does not exist. */
  roleRules(kind: string, name: string, namespace: string | undefined): PolicyRule[] {
    const role = kind === 'ClusterRole' ? this.#clusterRoles.get(undefined, name) : this.#roles.get(namespace, name);
    return (role?.rules as PolicyRule[] | undefined) ?? [];
  }

  #roleRules(binding: Binding): PolicyRule[] {
    return this.roleRules(binding.roleRef.kind, binding.roleRef.name, binding.metadata.namespace);
  }

  /** Every (binding, rules) pair that applies to the user in a namespace (or cluster-wide only). */
  *#grants(user: UserInfo, namespace: string | undefined): Generator<{ binding: Binding; rules: PolicyRule[] }> {
    for (const b of this.#clusterRoleBindings.values() as IterableIterator<Binding>) {
      if ((b.subjects ?? []).some((s) => appliesTo(s, user, undefined))) yield { binding: b, rules: this.#roleRules(b) };
    }
    if (!namespace) return;
    for (const b of this.#roleBindings.values() as IterableIterator<Binding>) {
      if (b.metadata.namespace === namespace && (b.subjects ?? []).some((s) => appliesTo(s, user, namespace))) yield { binding: b, rules: this.#roleRules(b) };
    }
  }

  authorize(user: UserInfo, a: RequestAttributes): Decision {
    if (user.groups.includes(SUPERUSER_GROUP)) return { allowed: true, reason: `member of ${SUPERUSER_GROUP}` };
    const namespace = a.kind === 'resource' ? a.namespace : undefined;
    for (const { binding, rules } of this.#grants(user, namespace)) {
      if (rules.some((r) => ruleAllows(r, a))) {
        const kind = binding.kind === 'ClusterRoleBinding' || !binding.metadata.namespace ? 'ClusterRoleBinding' : 'RoleBinding';
        return {
          allowed: true,
          reason: `RBAC: allowed by ${kind} "${binding.metadata.name}" of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${user.name}`,
        };
      }
    }
    return { allowed: false, reason: '' };
  }

  /** The rules that apply to the user in a namespace (SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    if (user.groups.includes(SUPERUSER_GROUP))
      return [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        { verbs: ['*'], nonResourceURLs: ['*'] },
      ];
    return [...this.#grants(user, namespace)].flatMap((g) => g.rules);
  }
}
