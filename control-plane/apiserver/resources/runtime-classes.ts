import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import { fieldErrors, isQuantity, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { immutable } from '../validate-fields.ts';
import { dns1123Label } from '../validate-meta.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';

const asClass = (o: Obj) => o as unknown as RuntimeClass;

/**
 * RuntimeClass (node.k8s.io/v1): the CRI handler a pod's sandbox runs under
 * (a runtime containerd is configured with), the overhead a pod of it adds
 * and where such pods may be scheduled. The handler cannot change.
 */
export const runtimeClassStrategy: Strategy = {
  validate(obj) {
    const rc = asClass(obj);
    const causes: StatusCause[] = [];
    if (!rc.handler) causes.push(fieldErrors.required('handler'));
    else for (const message of dns1123Label(rc.handler)) causes.push(fieldErrors.invalid('handler', rc.handler, message));
    for (const [resource, quantity] of Object.entries(rc.overhead?.podFixed ?? {})) {
      if (!isQuantity(String(quantity))) causes.push(fieldErrors.invalid(`overhead.podFixed[${resource}]`, quantity, 'must be a quantity'));
    }
    return causes;
  },
  validateUpdate: (obj, old) => [...(runtimeClassStrategy.validate?.(obj) ?? []), ...immutable(asClass(obj).handler, asClass(old).handler, 'handler')],
  columns: [
    NAME_COLUMN,
    column('Handler', 'Handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.'),
    AGE_COLUMN,
  ],
  cells: (obj) => [obj.metadata.name, asClass(obj).handler, age(obj.metadata.creationTimestamp)],
};
