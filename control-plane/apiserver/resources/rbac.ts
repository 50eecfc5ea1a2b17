import type { ClusterRole, PolicyRule, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';
import { immutable } from '../validate-fields.ts';
import { pathSegmentName } from '../validate-meta.ts';

const SUBJECT_KINDS = ['ServiceAccount', 'User', 'Group'];

function validateRules(rules: PolicyRule[] | undefined, clusterScoped: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  (rules ?? []).forEach((r, i) => {
    const path = `rules[${i}]`;
    if (!r.verbs?.length) causes.push(fieldErrors.required(`${path}.verbs`, 'verbs must contain at least one value'));
    if (r.nonResourceURLs?.length) {
      if (!clusterScoped) causes.push(fieldErrors.invalid(`${path}.nonResourceURLs`, r.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
      if (r.apiGroups?.length || r.resources?.length)
        causes.push(fieldErrors.invalid(`${path}.nonResourceURLs`, r.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    } else {
      if (!r.apiGroups?.length) causes.push(fieldErrors.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
      if (!r.resources?.length) causes.push(fieldErrors.required(`${path}.resources`, 'resource rules must supply at least one resource'));
    }
  });
  return causes;
}

export function roleStrategy(clusterScoped: boolean): Strategy {
  return {
    nameRule: pathSegmentName,
    validate: (obj) => validateRules((obj as unknown as ClusterRole).rules, clusterScoped),
    columns: [NAME_COLUMN, column('Created At', 'Time the role was created', 0, 'date')],
    cells: (obj) => [obj.metadata.name, obj.metadata.creationTimestamp],
  };
}

const asBinding = (o: Obj) => o as unknown as RoleBinding;

export function roleBindingStrategy(clusterScoped: boolean): Strategy {
  const strategy: Strategy = {
    nameRule: pathSegmentName,
    validate(obj) {
      const b = asBinding(obj);
      const causes: StatusCause[] = [];
      const allowedKinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
      if (!b.roleRef) causes.push(fieldErrors.required('roleRef'));
      else {
        if (b.roleRef.apiGroup !== 'rbac.authorization.k8s.io')
          causes.push(fieldErrors.notSupported('roleRef.apiGroup', b.roleRef.apiGroup, ['rbac.authorization.k8s.io']));
        if (!allowedKinds.includes(b.roleRef.kind)) causes.push(fieldErrors.notSupported('roleRef.kind', b.roleRef.kind, allowedKinds));
        if (!b.roleRef.name) causes.push(fieldErrors.required('roleRef.name'));
      }
      (b.subjects ?? []).forEach((s, i) => {
        if (!SUBJECT_KINDS.includes(s.kind)) causes.push(fieldErrors.notSupported(`subjects[${i}].kind`, s.kind, SUBJECT_KINDS));
        if (!s.name) causes.push(fieldErrors.required(`subjects[${i}].name`));
        if (s.kind === 'ServiceAccount' && clusterScoped && !s.namespace) causes.push(fieldErrors.required(`subjects[${i}].namespace`));
      });
      return causes;
    },
    validateUpdate: (obj, old) => [...(strategy.validate?.(obj) ?? []), ...immutable(asBinding(obj).roleRef, asBinding(old).roleRef, 'roleRef')],
    columns: [
      NAME_COLUMN,
      column('Role', 'The role this binding grants'),
      AGE_COLUMN,
      column('Users', 'Bound users', 1),
      column('Groups', 'Bound groups', 1),
      column('ServiceAccounts', 'Bound service accounts', 1),
    ],
    cells(obj) {
      const b = asBinding(obj);
      const of = (kind: string) =>
        (b.subjects ?? [])
          .filter((s) => s.kind === kind)
          .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name))
          .join(', ');
      return [obj.metadata.name, `${b.roleRef?.kind}/${b.roleRef?.name}`, age(obj.metadata.creationTimestamp), of('User'), of('Group'), of('ServiceAccount')];
    },
  };
  return strategy;
}
