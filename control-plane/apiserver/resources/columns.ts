import type { TableColumn } from '../resource-info.ts';

/** A Table column; most are strings shown by default (priority 0). */
export function column(name: string, description: string, priority = 0, type: TableColumn['type'] = 'string'): TableColumn {
  return { name, type, description, priority };
}

export const NAME_COLUMN: TableColumn = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 };
export const AGE_COLUMN = column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
export const CONTAINERS_COLUMN = column('Containers', 'Names of each container in the template.', 1);
export const IMAGES_COLUMN = column('Images', 'Images referenced by each container in the template.', 1);
export const SELECTOR_COLUMN = column(
  'Selector',
  'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
  1,
);
