import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';
import { validateSelector } from './pod-template.ts';
import { immutable } from '../validate-fields.ts';

/** Values above this are reserved for the system-* classes. */
export const HIGHEST_USER_PRIORITY = 1_000_000_000;
const asClass = (o: Obj) => o as unknown as PriorityClass;
const asPdb = (o: Obj) => o as unknown as PodDisruptionBudget;

export const priorityClassStrategy: Strategy = {
  defaults(obj) {
    asClass(obj).preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate(obj) {
    const pc = asClass(obj);
    const causes: StatusCause[] = [];
    if (!Number.isInteger(pc.value)) causes.push(fieldErrors.required('value'));
    else if (pc.value > HIGHEST_USER_PRIORITY && !obj.metadata.name?.startsWith('system-')) {
      causes.push(fieldErrors.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
    }
    if (obj.metadata.name?.startsWith('system-') && pc.value <= HIGHEST_USER_PRIORITY)
      causes.push(fieldErrors.forbidden('metadata.name', "priority class names with 'system-' prefix are reserved"));
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...(priorityClassStrategy.validate?.(obj) ?? []),
    ...immutable(asClass(obj).value, asClass(old).value, 'value'),
    ...immutable(asClass(obj).preemptionPolicy, asClass(old).preemptionPolicy, 'preemptionPolicy'),
  ],
  columns: [
    NAME_COLUMN,
    column('Value', 'The priority value'),
    column('Global-Default', 'Whether this is the default class'),
    AGE_COLUMN,
    column('PreemptionPolicy', 'Preemption policy'),
  ],
  cells: (obj) => [
    obj.metadata.name,
    asClass(obj).value,
    String(asClass(obj).globalDefault ?? false),
    age(obj.metadata.creationTimestamp),
    asClass(obj).preemptionPolicy ?? '',
  ],
};

export const podDisruptionBudgetStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.spec ??= {};
    obj.status = {};
  },
  requiredStatus: { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 },
  validate(obj) {
    const spec = asPdb(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    const causes: StatusCause[] = [];
    if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined)
      causes.push(fieldErrors.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
    if (spec.selector) causes.push(...validateSelector(spec.selector, undefined));
    return causes;
  },
  columns: [
    NAME_COLUMN,
    column('Min Available', 'The minimum number of pods that must be available'),
    column('Max Unavailable', 'The maximum number of pods that may be unavailable'),
    column('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time'),
    AGE_COLUMN,
  ],
  cells(obj) {
    const pdb = asPdb(obj);
    return [
      obj.metadata.name,
      String(pdb.spec?.minAvailable ?? 'N/A'),
      String(pdb.spec?.maxUnavailable ?? 'N/A'),
      pdb.status?.disruptionsAllowed ?? 0,
      age(obj.metadata.creationTimestamp),
    ];
  },
};
