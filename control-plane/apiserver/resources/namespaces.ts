import type { Obj, Strategy } from '../resource-info.ts';
import { dns1123Label } from '../validate-meta.ts';
import { fieldErrors } from '../../../apimachinery/index.ts';
import { age } from './age.ts';
import { NAME_COLUMN, AGE_COLUMN } from './columns.ts';

export const namespaceStrategy: Strategy = {
  defaults(obj) {
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name as string };
  },
  prepareForCreate(obj) {
    obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) };
    obj.status = { phase: 'Active' };
  },
  prepareForUpdate(obj, old) {
    // spec.finalizers change only through the finalize subresource
    obj.spec = { ...(obj.spec ?? {}), finalizers: old.spec?.finalizers ?? [] };
  },
  pendingFinalizers(obj) {
    return ((obj.spec?.finalizers as string[] | undefined) ?? []).length > 0;
  },
  prepareForDelete(obj) {
    obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
  },
  validate(obj: Obj) {
    return dns1123Label(obj.metadata.name ?? '').map((e) => fieldErrors.invalid('metadata.name', obj.metadata.name, e));
  },
  selectableFields: ['status.phase'],
  columns: [NAME_COLUMN, { name: 'Status', type: 'string', description: 'The status of the namespace', priority: 0 }, AGE_COLUMN],
  cells(obj) {
    return [obj.metadata.name, (obj.status?.phase as string | undefined) ?? 'Active', age(obj.metadata.creationTimestamp)];
  },
};
