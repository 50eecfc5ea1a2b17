import type { Subscribe } from '../api/index.ts';
import { NodeAuthorizer } from './node-authorizer.ts';
import { ObjectCache } from './object-cache.ts';
import { RbacAuthorizer, type Decision } from './rbac.ts';
import type { PolicyRule, RequestAttributes, UserInfo } from './types.ts';

/**
 * kube-apiserver's --authorization-mode=Node,RBAC: the Node authorizer
 * first, then RBAC. A request neither allows is refused with the Node
 * authorizer's reason, if it gave one.
 */
export class ClusterAuthorizer {
  readonly rbac: RbacAuthorizer;
  readonly #node: NodeAuthorizer;
  readonly #pods: ObjectCache;
  readonly #claims: ObjectCache;

  /** `feed`: the list-and-watch of a resource, by group and name */
  constructor(feed: (group: string, resource: string) => Subscribe) {
    this.rbac = new RbacAuthorizer((resource) => feed('rbac.authorization.k8s.io', resource));
    this.#pods = new ObjectCache(feed('', 'pods'), { indexBy: (pod) => (pod.spec as { nodeName?: string } | undefined)?.nodeName || undefined });
    this.#claims = new ObjectCache(feed('', 'persistentvolumeclaims'));
    this.#node = new NodeAuthorizer(this.#pods, this.#claims);
  }

  async start(): Promise<void> {
    await Promise.all([this.rbac.start(), this.#pods.start(), this.#claims.start()]);
  }

  stop(): void {
    this.rbac.stop();
    this.#pods.stop();
    this.#claims.stop();
  }

  authorize(user: UserInfo, a: RequestAttributes): Decision {
    const node = this.#node.authorize(user, a);
    if (node.allowed) return { allowed: true, reason: `Node: ${node.reason}` };
    const rbac = this.rbac.authorize(user, a);
    return rbac.allowed ? rbac : { allowed: false, reason: node.reason };
  }

  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    return this.rbac.rulesFor(user, namespace);
  }

  roleRules(kind: string, name: string, namespace: string | undefined): PolicyRule[] {
    return this.rbac.roleRules(kind, name, namespace);
  }
}
