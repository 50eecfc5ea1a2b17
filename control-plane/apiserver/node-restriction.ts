import type { Pod } from 'kubernetes-types/core/v1.js';
import { MIRROR_POD_ANNOTATION, ApiError, podReferences } from '../../apimachinery/index.ts';
import { nodeNameOf } from '../auth/index.ts';
import type { UserInfo } from '../auth/index.ts';
import type { Obj } from './resource-info.ts';

const MIRROR_ANNOTATION = MIRROR_POD_ANNOTATION;
const RESTRICTED_LABEL_PREFIX = 'node-restriction.kubernetes.io/';

/** One write by anybody: NodeRestriction looks only at those by nodes. */
export interface NodeWrite {
  user: UserInfo;
  operation: 'create' | 'update' | 'delete';
  /** "pods", "nodes", "leases.coordination.k8s.io" … */
  resource: string;
  subresource?: string;
  name?: string;
  /** the object as written (create, update) */
  obj?: Obj;
  /** the object as stored (update, delete, subresources of an existing object) */
  old?: Obj;
}

/** Whether NodeRestriction has anything to say about a write (so callers fetch the stored object only then). */
export function restrictsWrite(user: UserInfo, resource: string): boolean {
  return nodeNameOf(user) !== undefined && ['pods', 'nodes', 'leases.coordination.k8s.io', 'csinodes.storage.k8s.io', 'serviceaccounts'].includes(resource);
}

/**
 * The NodeRestriction admission plugin: a node creates only mirror pods of
 * its own that reference nothing secret, deletes, evicts and reports on only
 * its own pods, writes only its own Node (never node-restriction labels),
 * Lease and CSINode, and asks for tokens only bound to its own pods.
 * Refusals are 403 with kube-apiserver's words.
 */
export function admitNodeRestriction(w: NodeWrite): void {
  const node = nodeNameOf(w.user);
  if (!node) return;
  const refuse = (why: string) => new ApiError('Forbidden', `${w.resource} "${w.name ?? w.obj?.metadata?.name ?? ''}" is forbidden: ${why}`);
  const podNode = (o: Obj | undefined) => (o?.spec as { nodeName?: string } | undefined)?.nodeName;
  switch (w.resource) {
    case 'pods': {
      // a pod that is not there is answered 404 by the write itself
      if (w.operation !== 'create' || w.subresource === 'eviction') {
        if (!w.old) return;
      }
      if (w.subresource === 'status') {
        if (podNode(w.old) !== node) throw refuse(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
        return;
      }
      if (w.subresource === 'eviction') {
        if (podNode(w.old) !== node) throw refuse(`node "${node}" can only evict pods with spec.nodeName set to itself`);
        return;
      }
      if (w.operation === 'delete') {
        if (podNode(w.old) !== node) throw refuse(`node "${node}" can only delete pods with spec.nodeName set to itself`);
        return;
      }
      if (w.operation !== 'create') throw refuse(`unexpected operation ${w.operation}`);
      return checkMirrorPod(node, w.obj as Obj, refuse);
    }
    case 'nodes': {
      const name = w.name ?? w.obj?.metadata?.name;
      if (name !== node) throw refuse(`node "${node}" is not allowed to modify node "${name}"`);
      const changed = restrictedLabelChanges(w.old?.metadata?.labels, w.obj?.metadata?.labels);
      if (changed.length) throw refuse(`is not allowed to modify labels: ${changed.join(', ')}`);
      return;
    }
    case 'leases.coordination.k8s.io':
      if (w.operation === 'create' && w.obj?.metadata?.name !== node) throw refuse('can only access node lease with the same name as the requesting node');
      return;
    case 'csinodes.storage.k8s.io':
      if (w.operation === 'create' && w.obj?.metadata?.name !== node) throw refuse(`node "${node}" is not allowed to modify object "${w.obj?.metadata?.name}"`);
      return;
    case 'serviceaccounts':
      if (w.subresource === 'token') checkTokenBinding(node, w.obj, w.old, refuse);
      return;
  }
}

function checkMirrorPod(node: string, pod: Obj, refuse: (why: string) => ApiError): void {
  if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] === undefined) {
    throw refuse(`pod does not have "${MIRROR_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
  }
  if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== node) throw refuse(`node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners = (pod.metadata?.ownerReferences ?? []) as { kind?: string; name?: string; apiVersion?: string }[];
  if (owners.length > 1 || owners.some((o) => o.kind !== 'Node' || o.name !== node || o.apiVersion !== 'v1')) {
    throw refuse(`node "${node}" can only create pods with a single owner reference set to itself`);
  }
  const spec = pod.spec as Pod['spec'];
  if (spec?.serviceAccountName) throw refuse(`node "${node}" can not create pods that use service accounts`);
  const refs = podReferences(pod as unknown as Pod);
  if (refs.secrets.size) throw refuse(`node "${node}" can not create pods that reference secrets`);
  if (refs.configMaps.size) throw refuse(`node "${node}" can not create pods that reference configmaps`);
  if (refs.persistentVolumeClaims.size) throw refuse(`node "${node}" can not create pods that reference persistentvolumeclaims`);
}

/** The node-restriction.kubernetes.io/ labels that differ between the stored and the written object. */
function restrictedLabelChanges(before: Record<string, string> | undefined, after: Record<string, string> | undefined): string[] {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})].filter((k) => k.startsWith(RESTRICTED_LABEL_PREFIX)));
  return [...keys].filter((k) => before?.[k] !== after?.[k]).sort();
}

/** A TokenRequest from a node must be bound to a pod, and that pod (`pod`, looked up by the caller) must run on the node. */
function checkTokenBinding(node: string, request: Obj | undefined, pod: Obj | undefined, refuse: (why: string) => ApiError): void {
  const ref = (request?.spec as { boundObjectRef?: { kind?: string; uid?: string } } | undefined)?.boundObjectRef;
  if (ref?.kind !== 'Pod') throw refuse('node requested token not bound to a pod');
  if (!pod || (ref.uid && pod.metadata?.uid !== ref.uid)) throw refuse('node requested token bound to a pod that does not exist or has a different uid');
  if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== node) throw refuse('node requested token bound to a pod scheduled on a different node');
}
