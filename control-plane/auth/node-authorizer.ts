import type { Pod } from 'kubernetes-types/core/v1.js';
import { podReferences as references } from '../../apimachinery/index.ts';
import type { Obj } from '../api/index.ts';
import type { ObjectCache } from './object-cache.ts';
import { ruleAllows } from './rules.ts';
import type { PolicyRule, RequestAttributes, UserInfo } from './types.ts';

const podReferences = (pod: Obj) => references(pod as unknown as Pod);

export const NODES_GROUP = 'system:nodes';
const NODE_USER_PREFIX = 'system:node:';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The node a user is, by its identity `system:node:<name>` in group system:nodes; undefined for anyone else. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_USER_PREFIX)) return undefined;
  return user.name.slice(NODE_USER_PREFIX.length) || undefined;
}

const READ = ['get', 'list', 'watch'];
const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({ verbs, apiGroups, resources });

/**
 * What every node may do whatever it runs (kube-apiserver's NodeRules, less
 * what the graph below decides): report on itself, read what every node
 * needs (Services, EndpointSlices, nodes, pods), write pods only as
 * NodeRestriction admission lets it.
 */
export const NODE_RULES: PolicyRule[] = [
  rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews']),
  rule(READ, [''], ['services', 'endpoints', 'nodes', 'pods']),
  rule(['create', 'delete'], [''], ['pods']),
  rule(['update', 'patch'], [''], ['pods/status']),
  rule(['create'], [''], ['pods/eviction']),
  rule(['get', 'update', 'patch'], [''], ['persistentvolumeclaims/status']),
  rule(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']),
  rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  rule(READ, ['storage.k8s.io'], ['csidrivers', 'volumeattachments', 'storageclasses']),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(READ, ['node.k8s.io'], ['runtimeclasses']),
];

export interface NodeDecision {
  allowed: boolean;
  /** why not, when a rule of this authorizer applied but did not allow (kube-apiserver adds it to the Forbidden message) */
  reason: string;
}

const NO_OPINION: NodeDecision = { allowed: false, reason: '' };
const allow = (why: string): NodeDecision => ({ allowed: true, reason: why });
const refuse = (reason: string): NodeDecision => ({ allowed: false, reason });

/**
 * The Node authorizer: a node (`system:node:<name>`) may read the Secrets,
 * ConfigMaps, claims, volumes and service accounts its own pods reference,
 * request tokens for those service accounts, write its own Node, Lease and
 * CSINode, and what NODE_RULES grant; nothing else. A refusal here is not
 * final: RBAC may still allow (kube-apiserver's Node,RBAC order).
 */
export class NodeAuthorizer {
  readonly #podsByNode: ObjectCache;
  readonly #claims: ObjectCache;

  /** `podsByNode` indexes pods by spec.nodeName */
  constructor(podsByNode: ObjectCache, claims: ObjectCache) {
    this.#podsByNode = podsByNode;
    this.#claims = claims;
  }

  authorize(user: UserInfo, a: RequestAttributes): NodeDecision {
    const node = nodeNameOf(user);
    if (!node || a.kind !== 'resource') return NO_OPINION;
    const resource = `${a.apiGroup}/${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
    switch (resource) {
      case '/secrets':
        return this.#read(node, a, (refs) => refs.secrets);
      case '/configmaps':
        return this.#read(node, a, (refs) => refs.configMaps);
      case '/persistentvolumeclaims':
        return this.#getOnly(a) ?? this.#related(node, a, (pod) => podReferences(pod).persistentVolumeClaims.has(a.name ?? ''));
      case '/persistentvolumes':
        return this.#getOnly(a) ?? this.#related(node, { ...a, namespace: undefined }, (pod) => this.#usesVolume(pod, a.name ?? ''));
      case '/serviceaccounts':
        return this.#getOnly(a) ?? this.#related(node, a, (pod) => podReferences(pod).serviceAccount === a.name);
      case '/serviceaccounts/token':
        if (a.verb !== 'create') return refuse('can only create tokens for individual service accounts');
        return this.#related(node, a, (pod) => podReferences(pod).serviceAccount === a.name);
      case 'coordination.k8s.io/leases':
        return this.#own(node, a, { what: 'node lease', namespace: NODE_LEASE_NAMESPACE });
      case 'storage.k8s.io/csinodes':
        return this.#own(node, a, { what: 'CSINode' });
      case '/nodes':
      case '/nodes/status':
        if (READ.includes(a.verb) || (a.verb === 'create' && !a.subresource)) return allow('node reads nodes, registers itself');
        if ((a.verb === 'update' || a.verb === 'patch') && a.name === node) return allow('node writes its own Node');
        return refuse('can only update or patch its own Node');
      default:
        return NODE_RULES.some((r) => ruleAllows(r, a)) ? allow('node rules') : NO_OPINION;
    }
  }

  /** Secrets and ConfigMaps: get, or list/watch of one object by name, when a pod of the node references it. */
  #read(node: string, a: Extract<RequestAttributes, { kind: 'resource' }>, names: (refs: ReturnType<typeof references>) => Set<string>): NodeDecision {
    if (!READ.includes(a.verb)) return refuse('can only read resources of this type');
    if (a.subresource) return refuse('cannot read subresource');
    if (!a.namespace) return refuse('can only read namespaced object of this type');
    return this.#related(node, a, (pod) => names(podReferences(pod)).has(a.name ?? ''));
  }

  #getOnly(a: Extract<RequestAttributes, { kind: 'resource' }>): NodeDecision | undefined {
    return a.verb === 'get' ? undefined : refuse('can only get individual resources of this type');
  }

  /** Allowed when a pod bound to the node (in the object's namespace, if it has one) passes `uses`. */
  #related(node: string, a: Extract<RequestAttributes, { kind: 'resource' }>, uses: (pod: Obj) => boolean): NodeDecision {
    if (!a.name) return refuse('No Object name found');
    for (const pod of this.#podsByNode.indexed(node)) {
      if (a.namespace !== undefined && pod.metadata.namespace !== a.namespace) continue;
      if (uses(pod)) return allow(`referenced by pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${node}`);
    }
    return refuse(`no relationship found between node '${node}' and this object`);
  }

  #usesVolume(pod: Obj, volume: string): boolean {
    for (const claim of podReferences(pod).persistentVolumeClaims) {
      const pvc = this.#claims.get(pod.metadata.namespace, claim) as { spec?: { volumeName?: string } } | undefined;
      if (pvc?.spec?.volumeName === volume) return true;
    }
    return false;
  }

  /** The node's own Lease or CSINode: named after the node (a create is checked by NodeRestriction). */
  #own(node: string, a: Extract<RequestAttributes, { kind: 'resource' }>, o: { what: string; namespace?: string }): NodeDecision {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return refuse(`can only get, create, update, patch, or delete a ${o.what}`);
    if (o.namespace && a.namespace !== o.namespace) return refuse(`can only access ${o.what}s in the ${o.namespace} namespace`);
    if (a.verb !== 'create' && a.name !== node) return refuse(`can only access ${o.what} with the same name as the requesting node`);
    return allow(`node's own ${o.what}`);
  }
}
