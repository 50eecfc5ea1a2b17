export {
  ANN,
  NO_PROVISIONER,
  DEFAULT_CLASS_ANNOTATION,
  PVC_PROTECTION_FINALIZER,
  PV_PROTECTION_FINALIZER,
  claimClass,
  volumeClass,
  findMatchingVolume,
  volumeSatisfies,
  volumeFitsNode,
  preBoundTo,
  storageOf,
} from './binding.ts';
