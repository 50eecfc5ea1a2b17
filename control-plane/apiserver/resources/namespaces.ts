import type { Obj, Strategy } from '../resource-info.ts';
import { dns1123Label } from '../validate-meta.ts';
import { fieldErrors } from '../../../apimachinery/index.ts';
import { age } from './age.ts';

export const namespaceStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name as string };
    obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) };
    obj.status = { phase: 'Active' };
  },
  validate(obj: Obj) {
    return dns1123Label(obj.metadata.name ?? '').map((e) => fieldErrors.invalid('metadata.name', obj.metadata.name, e));
  },
  selectableFields: ['status.phase'],
  columns: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    { name: 'Status', type: 'string', description: 'The status of the namespace', priority: 0 },
    { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
  ],
  cells(obj) {
    return [obj.metadata.name, (obj.status?.phase as string | undefined) ?? 'Active', age(obj.metadata.creationTimestamp)];
  },
};
