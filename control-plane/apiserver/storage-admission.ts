import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { ApiError, parseQuantity } from '../../apimachinery/index.ts';
import { DEFAULT_CLASS_ANNOTATION, PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER } from '../volumes/index.ts';
import type { Registry } from './registry.ts';
import type { Obj } from './resource-info.ts';

const asClaim = (o: Obj) => o as unknown as PersistentVolumeClaim;

/** The default StorageClass: of several marked default, the newest (then by name), as Kubernetes picks it. */
export function defaultClass(classes: StorageClass[]): StorageClass | undefined {
  return classes
    .filter((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
    .sort(
      (a, b) =>
        (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? '') ||
        (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
    )[0];
}

function addFinalizer(obj: Obj, finalizer: string): void {
  const list = (obj.metadata.finalizers ??= []);
  if (!list.includes(finalizer)) list.push(finalizer);
}

/** StorageObjectInUseProtection: claims and volumes carry their protection finalizers from birth. */
export function protectStorageObject(resource: 'persistentvolumes' | 'persistentvolumeclaims', body: Obj): void {
  addFinalizer(body, resource === 'persistentvolumes' ? PV_PROTECTION_FINALIZER : PVC_PROTECTION_FINALIZER);
}

/** DefaultStorageClass: a claim naming no class gets the default one; `""` means no class and stays. */
export async function admitDefaultStorageClass(claim: Obj, storageClasses: Registry): Promise<void> {
  const spec = (asClaim(claim).spec ??= {});
  if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
  const cls = defaultClass((await storageClasses.list({})).items as unknown as StorageClass[]);
  if (cls) spec.storageClassName = cls.metadata?.name;
}

/**
 * PersistentVolumeClaimResize: a claim asking for more storage must be bound
 * and of a class that allows expansion; asking for less is refused by
 * validation.
 */
export async function admitClaimResize(next: Obj, old: Obj, storageClasses: Registry): Promise<void> {
  const want = asClaim(next).spec?.resources?.requests?.storage;
  const had = asClaim(old).spec?.resources?.requests?.storage;
  if (!want || !had || parseQuantity(String(want)) <= parseQuantity(String(had))) return;
  const forbidden = () =>
    new ApiError(
      'Forbidden',
      `persistentvolumeclaims "${old.metadata.name}" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize`,
    );
  const claim = asClaim(old);
  if (claim.status?.phase !== 'Bound' || !claim.spec?.volumeName)
    throw new ApiError('Forbidden', `persistentvolumeclaims "${old.metadata.name}" is forbidden: Only bound persistent volume claims can be resized`);
  const className = claim.spec.storageClassName;
  if (!className) throw forbidden();
  let cls: StorageClass;
  try {
    cls = (await storageClasses.get(undefined, className)) as unknown as StorageClass;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) throw forbidden();
    throw err;
  }
  if (!cls.allowVolumeExpansion) throw forbidden();
}
