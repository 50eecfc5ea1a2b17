import type { Node, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import {
  SELECTED_NODE_ANNOTATION,
  STORAGE_PROVISIONER_ANNOTATION,
  PROVISIONED_BY_ANNOTATION,
  matchesLabels,
  parseQuantity,
  termMatches,
  fromObjectSelector,
} from '../../apimachinery/index.ts';

/** The annotations the PV controller, the scheduler and provisioners speak through (as Kubernetes spells them). */
export const ANN = {
  bindCompleted: 'pv.kubernetes.io/bind-completed',
  boundByController: 'pv.kubernetes.io/bound-by-controller',
  provisionedBy: PROVISIONED_BY_ANNOTATION,
  storageProvisioner: STORAGE_PROVISIONER_ANNOTATION,
  betaStorageProvisioner: 'volume.beta.kubernetes.io/storage-provisioner',
  selectedNode: SELECTED_NODE_ANNOTATION,
} as const;

export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

export const storageOf = (q: unknown): number => (q === undefined || q === null ? 0 : parseQuantity(String(q)));

/** The claim's class: spec.storageClassName, or the old beta annotation. */
export function claimClass(c: PersistentVolumeClaim): string {
  return c.spec?.storageClassName ?? c.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

export function volumeClass(v: PersistentVolume): string {
  return v.spec?.storageClassName ?? v.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

/** Whether a volume's required node affinity lets it be used on a node. */
export function volumeFitsNode(v: PersistentVolume, node: Node): boolean {
  const terms = v.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  return !terms?.length || terms.some((t) => termMatches(t, node));
}

/** Whether a volume is pre-bound to this claim (claimRef by name, and by uid when it has one). */
export function preBoundTo(v: PersistentVolume, c: PersistentVolumeClaim): boolean {
  const ref = v.spec?.claimRef;
  return !!ref && ref.name === c.metadata?.name && ref.namespace === c.metadata?.namespace && (!ref.uid || ref.uid === c.metadata?.uid);
}

/** Whether a free (or pre-bound) volume satisfies a claim: class, mode, access modes, size, selector, node. */
export function volumeSatisfies(v: PersistentVolume, c: PersistentVolumeClaim, node?: Node): boolean {
  if (v.metadata?.deletionTimestamp) return false;
  if (v.spec?.claimRef && !preBoundTo(v, c)) return false;
  if (!v.spec?.claimRef && v.status?.phase && v.status.phase !== 'Available' && v.status.phase !== 'Pending') return false;
  if (volumeClass(v) !== claimClass(c)) return false;
  if ((v.spec?.volumeMode ?? 'Filesystem') !== (c.spec?.volumeMode ?? 'Filesystem')) return false;
  const modes = new Set(v.spec?.accessModes ?? []);
  if (!(c.spec?.accessModes ?? []).every((m) => modes.has(m))) return false;
  if (storageOf(v.spec?.capacity?.storage) < storageOf(c.spec?.resources?.requests?.storage)) return false;
  if (c.spec?.selector && !matchesLabels(fromObjectSelector(c.spec.selector), v.metadata?.labels ?? {})) return false;
  if (node && !volumeFitsNode(v, node)) return false;
  return true;
}

/**
 * The volume a claim binds to, as the PV controller chooses: one pre-bound to
 * it first, else the smallest that satisfies it (ties by name).
 */
export function findMatchingVolume(c: PersistentVolumeClaim, volumes: PersistentVolume[], node?: Node): PersistentVolume | undefined {
  const fit = volumes.filter((v) => volumeSatisfies(v, c, node));
  const pre = fit.find((v) => v.spec?.claimRef);
  if (pre) return pre;
  return fit.sort(
    (a, b) => storageOf(a.spec?.capacity?.storage) - storageOf(b.spec?.capacity?.storage) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  )[0];
}
