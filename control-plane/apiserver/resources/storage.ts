import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { CSIDriver, CSINode, StorageClass } from 'kubernetes-types/storage/v1.js';
import { fieldErrors, isQuantity, parseQuantity, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';
import { immutable } from '../validate-fields.ts';
import { DEFAULT_CLASS_ANNOTATION } from '../../volumes/index.ts';

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const ACCESS_SHORT: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const asPv = (o: Obj) => o as unknown as PersistentVolume;
const asPvc = (o: Obj) => o as unknown as PersistentVolumeClaim;
const asClass = (o: Obj) => o as unknown as StorageClass;

function accessModes(modes: string[] | undefined): string {
  return (modes ?? []).map((m) => ACCESS_SHORT[m] ?? m).join(',');
}

function validateAccessModes(modes: string[] | undefined, field: string): StatusCause[] {
  if (!modes?.length) return [fieldErrors.required(field)];
  return modes.filter((m) => !ACCESS_MODES.includes(m)).map((m) => fieldErrors.notSupported(field, m, ACCESS_MODES));
}

function validateStorage(q: unknown, field: string): StatusCause[] {
  if (q === undefined) return [fieldErrors.required(field)];
  return isQuantity(String(q)) ? [] : [fieldErrors.invalid(field, q, 'must be a valid quantity')];
}

export const persistentVolumeStrategy: Strategy = {
  defaults(obj) {
    const spec = (asPv(obj).spec ??= {});
    spec.persistentVolumeReclaimPolicy ??= 'Retain';
    spec.volumeMode ??= 'Filesystem';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  validate(obj) {
    const spec = asPv(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    const causes = [...validateAccessModes(spec.accessModes, 'spec.accessModes'), ...validateStorage(spec.capacity?.storage, 'spec.capacity[storage]')];
    const policy = spec.persistentVolumeReclaimPolicy;
    if (policy && !['Retain', 'Delete', 'Recycle'].includes(policy))
      causes.push(fieldErrors.notSupported('spec.persistentVolumeReclaimPolicy', policy, ['Delete', 'Recycle', 'Retain']));
    return causes;
  },
  columns: [
    NAME_COLUMN,
    column('Capacity', 'Capacity of the volume'),
    column('Access Modes', 'Access modes'),
    column('Reclaim Policy', 'Reclaim policy'),
    column('Status', 'Phase of the volume'),
    column('Claim', 'The claim bound to the volume'),
    column('StorageClass', 'Storage class of the volume'),
    column('VolumeAttributesClass', 'Volume attributes class'),
    column('Reason', 'Reason for the phase'),
    AGE_COLUMN,
    column('VolumeMode', 'Volume mode', 1),
  ],
  cells(obj) {
    const pv = asPv(obj);
    const claim = pv.spec?.claimRef ? `${pv.spec.claimRef.namespace}/${pv.spec.claimRef.name}` : '';
    return [
      obj.metadata.name,
      pv.spec?.capacity?.storage ?? '',
      accessModes(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? '',
      pv.status?.phase ?? '',
      claim,
      pv.spec?.storageClassName ?? '',
      pv.spec?.volumeAttributesClassName ?? '<unset>',
      pv.status?.reason ?? '',
      age(obj.metadata.creationTimestamp),
      pv.spec?.volumeMode ?? 'Filesystem',
    ];
  },
};

export const persistentVolumeClaimStrategy: Strategy = {
  defaults(obj) {
    (asPvc(obj).spec ??= {}).volumeMode ??= 'Filesystem';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  validate(obj) {
    const spec = asPvc(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    return [...validateAccessModes(spec.accessModes, 'spec.accessModes'), ...validateStorage(spec.resources?.requests?.storage, 'spec.resources[storage]')];
  },
  validateUpdate(obj, old) {
    const spec = asPvc(obj).spec ?? {};
    const prev = asPvc(old).spec ?? {};
    const causes = persistentVolumeClaimStrategy.validate?.(obj) ?? [];
    // only the requested size (and the volume name while unbound) may change
    const fixed = (s: typeof spec) => ({
      ...s,
      resources: { ...s.resources, requests: { ...(s.resources?.requests ?? {}), storage: undefined } },
      volumeName: undefined,
      volumeAttributesClassName: undefined,
    });
    if (JSON.stringify(fixed(spec)) !== JSON.stringify(fixed(prev))) {
      causes.push(fieldErrors.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
    }
    const want = spec.resources?.requests?.storage;
    const had = prev.resources?.requests?.storage;
    if (want && had && isQuantity(String(want)) && parseQuantity(String(want)) < parseQuantity(String(had))) {
      causes.push(fieldErrors.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
    }
    return causes;
  },
  columns: [
    NAME_COLUMN,
    column('Status', 'Phase of the claim'),
    column('Volume', 'The volume bound to the claim'),
    column('Capacity', 'Capacity of the bound volume'),
    column('Access Modes', 'Access modes'),
    column('StorageClass', 'Storage class of the claim'),
    column('VolumeAttributesClass', 'Volume attributes class'),
    AGE_COLUMN,
    column('VolumeMode', 'Volume mode', 1),
  ],
  cells(obj) {
    const pvc = asPvc(obj);
    const phase = obj.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
    return [
      obj.metadata.name,
      phase,
      pvc.spec?.volumeName ?? '',
      pvc.status?.capacity?.storage ?? '',
      accessModes(pvc.status?.accessModes),
      pvc.spec?.storageClassName ?? '',
      pvc.spec?.volumeAttributesClassName ?? '<unset>',
      age(obj.metadata.creationTimestamp),
      pvc.spec?.volumeMode ?? 'Filesystem',
    ];
  },
};

export const storageClassStrategy: Strategy = {
  defaults(obj) {
    const sc = asClass(obj);
    sc.reclaimPolicy ??= 'Delete';
    sc.volumeBindingMode ??= 'Immediate';
  },
  validate(obj) {
    const sc = asClass(obj);
    const causes: StatusCause[] = [];
    if (!sc.provisioner) causes.push(fieldErrors.required('provisioner'));
    if (sc.reclaimPolicy && !['Delete', 'Retain'].includes(sc.reclaimPolicy))
      causes.push(fieldErrors.notSupported('reclaimPolicy', sc.reclaimPolicy, ['Delete', 'Retain']));
    if (sc.volumeBindingMode && !['Immediate', 'WaitForFirstConsumer'].includes(sc.volumeBindingMode))
      causes.push(fieldErrors.notSupported('volumeBindingMode', sc.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
    return causes;
  },
  validateUpdate(obj, old) {
    const sc = asClass(obj);
    const prev = asClass(old);
    return [
      ...(storageClassStrategy.validate?.(obj) ?? []),
      ...immutable(sc.provisioner, prev.provisioner, 'provisioner'),
      ...immutable(sc.parameters, prev.parameters, 'parameters'),
      ...immutable(sc.reclaimPolicy, prev.reclaimPolicy, 'reclaimPolicy'),
      ...immutable(sc.volumeBindingMode, prev.volumeBindingMode, 'volumeBindingMode'),
    ];
  },
  columns: [
    NAME_COLUMN,
    column('Provisioner', 'Provisioner of the class'),
    column('ReclaimPolicy', 'Reclaim policy of dynamically provisioned volumes'),
    column('VolumeBindingMode', 'When volumes are bound and provisioned'),
    column('AllowVolumeExpansion', 'Whether volumes may be expanded'),
    AGE_COLUMN,
  ],
  cells(obj) {
    const sc = asClass(obj);
    const isDefault = obj.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
    return [
      `${obj.metadata.name}${isDefault ? ' (default)' : ''}`,
      sc.provisioner,
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      String(sc.allowVolumeExpansion ?? false),
      age(obj.metadata.creationTimestamp),
    ];
  },
};

export const csiNodeStrategy: Strategy = {
  columns: [NAME_COLUMN, column('Drivers', 'Drivers indicates the number of CSI drivers registered on the node', 0, 'integer'), AGE_COLUMN],
  cells(obj) {
    return [obj.metadata.name, ((obj as unknown as CSINode).spec?.drivers ?? []).length, age(obj.metadata.creationTimestamp)];
  },
};

export const csiDriverStrategy: Strategy = {
  defaults(obj) {
    const spec = ((obj as unknown as CSIDriver).spec ??= {});
    spec.attachRequired ??= true;
    spec.podInfoOnMount ??= false;
    spec.storageCapacity ??= false;
    spec.requiresRepublish ??= false;
    spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
    spec.volumeLifecycleModes ??= ['Persistent'];
  },
  columns: [
    NAME_COLUMN,
    column('AttachRequired', 'Indicates this CSI volume driver requires an attach operation', 0, 'boolean'),
    column('PodInfoOnMount', 'Indicates this CSI volume driver requires additional pod information during mount operations', 0, 'boolean'),
    column('StorageCapacity', 'Indicates this CSI volume driver wants pod scheduling to consider storage capacity', 0, 'boolean'),
    column('TokenRequests', 'Indicates this CSI volume driver requires service account tokens'),
    column('RequiresRepublish', 'Indicates this CSI volume driver requires repeated NodePublishVolume calls', 0, 'boolean'),
    column('Modes', 'Indicates volume lifecycle modes supported by this driver'),
    AGE_COLUMN,
  ],
  cells(obj) {
    const spec = (obj as unknown as CSIDriver).spec ?? {};
    const tokens = (spec.tokenRequests ?? []).map((t) => t.audience).join(',');
    return [
      obj.metadata.name,
      spec.attachRequired ?? true,
      spec.podInfoOnMount ?? false,
      spec.storageCapacity ?? false,
      tokens || '<unset>',
      spec.requiresRepublish ?? false,
      (spec.volumeLifecycleModes ?? ['Persistent']).join(','),
      age(obj.metadata.creationTimestamp),
    ];
  },
};

/** VolumeAttributesClass: a driver's mutable volume attributes by name; the driver and the parameters are fixed once made. */
export const volumeAttributesClassStrategy: Strategy = {
  validate: (obj) => (obj.driverName ? [] : [fieldErrors.required('driverName')]),
  validateUpdate: (obj, old) => [
    ...(volumeAttributesClassStrategy.validate?.(obj) ?? []),
    ...immutable(obj.driverName, old.driverName, 'driverName'),
    ...immutable(obj.parameters ?? {}, old.parameters ?? {}, 'parameters'),
  ],
  columns: [NAME_COLUMN, column('DriverName', 'Name of the CSI driver'), AGE_COLUMN],
  cells: (obj) => [obj.metadata.name, obj.driverName, age(obj.metadata.creationTimestamp)],
};
