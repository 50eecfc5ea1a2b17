// VolumeBinding: pods with persistentVolumeClaim volumes go where their
// volumes are (bound volumes' node affinity) or can be made (a node with the
// class's CSI driver, or a free volume that fits the node, for
// WaitForFirstConsumer claims).
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { CSINode, StorageClass } from 'kubernetes-types/storage/v1.js';
import { ANN, NO_PROVISIONER, claimClass, findMatchingVolume, volumeFitsNode } from '../../volumes/index.ts';
import type { CycleState, FilterPlugin } from '../framework.ts';

export const VOLUME_BINDING = 'VolumeBinding';

export const REASONS = {
  unboundImmediate: 'pod has unbound immediate PersistentVolumeClaims',
  nodeConflict: 'node(s) had volume node affinity conflict',
  bindConflict: "node(s) didn't find available persistent volumes to bind",
} as const;

/** What the scheduler knows about storage, from its informers. */
export interface StorageLookup {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  volumes(): PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
  csiNode(nodeName: string): CSINode | undefined;
  /** whether any node has this CSI driver registered (a node-local provisioner) */
  csiDriverOnSomeNode(name: string): boolean;
}

/** A pod's claims sorted by what each needs from a node. */
export interface PodVolumes {
  /** a reason no node can help with (a claim missing, an Immediate claim unbound) */
  problem?: string;
  bound: PersistentVolume[];
  /** WaitForFirstConsumer claims to provision on the chosen node, with their provisioner; `onNode`: it is a CSI driver that provisions where it runs */
  toProvision: Array<{ claim: PersistentVolumeClaim; provisioner: string; onNode: boolean }>;
  /** WaitForFirstConsumer claims to bind to a free volume that fits the chosen node */
  toBind: PersistentVolumeClaim[];
}

export function podVolumes(pod: Pod, storage: StorageLookup): PodVolumes | undefined {
  const names = (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
  if (!names.length) return undefined;
  const out: PodVolumes = { bound: [], toProvision: [], toBind: [] };
  const ns = pod.metadata?.namespace ?? 'default';
  for (const name of names) {
    const claim = storage.claim(ns, name);
    if (!claim) return { ...out, problem: `persistentvolumeclaim "${name}" not found` };
    if (claim.metadata?.deletionTimestamp) return { ...out, problem: `persistentvolumeclaim "${name}" is being deleted` };
    if (claim.spec?.volumeName) {
      const pv = storage.volume(claim.spec.volumeName);
      if (pv) out.bound.push(pv);
      else return { ...out, problem: REASONS.unboundImmediate };
      continue;
    }
    const cls = storage.storageClass(claimClass(claim));
    if (cls?.volumeBindingMode !== 'WaitForFirstConsumer') return { ...out, problem: REASONS.unboundImmediate };
    // without a provisioner only a free volume can serve it (the filter says where one is)
    if (
      cls.provisioner !== NO_PROVISIONER &&
      (claim.metadata?.annotations?.[ANN.selectedNode] ||
        !findMatchingVolume(
          claim,
          storage.volumes().filter((v) => !v.spec?.claimRef),
        ))
    ) {
      out.toProvision.push({ claim, provisioner: cls.provisioner, onNode: storage.csiDriverOnSomeNode(cls.provisioner) });
    } else {
      out.toBind.push(claim);
    }
  }
  return out;
}

/** What the scheduler puts in the cycle state for a pod with claims. */
export interface VolumeBindingState {
  volumes: PodVolumes;
  storage: StorageLookup;
}

/** Filter over the pod's claims as the scheduler sorted them into the cycle state. */
export const volumeBinding: FilterPlugin = {
  name: VOLUME_BINDING,
  preFilter: (state: CycleState) => (state.data.has(VOLUME_BINDING) ? undefined : 'skip'),
  filter(state, node) {
    const { volumes: pv, storage } = state.data.get(VOLUME_BINDING) as VolumeBindingState;
    if (pv.problem) return { reason: pv.problem, unresolvable: true };
    if (pv.bound.some((v) => !volumeFitsNode(v, node.node))) return { reason: REASONS.nodeConflict, unresolvable: true };
    const selected = (c: PersistentVolumeClaim) => c.metadata?.annotations?.[ANN.selectedNode];
    for (const { claim, provisioner, onNode } of pv.toProvision) {
      if (selected(claim) && selected(claim) !== node.name) return { reason: REASONS.bindConflict, unresolvable: true };
      // a node-local driver can only make the volume on a node it runs on
      if (onNode && !(storage.csiNode(node.name)?.spec?.drivers ?? []).some((d) => d.name === provisioner))
        return { reason: REASONS.bindConflict, unresolvable: true };
    }
    for (const claim of pv.toBind) {
      if (
        !findMatchingVolume(
          claim,
          storage.volumes().filter((v) => !v.spec?.claimRef),
          node.node,
        )
      )
        return { reason: REASONS.bindConflict, unresolvable: true };
    }
    return null;
  },
};
