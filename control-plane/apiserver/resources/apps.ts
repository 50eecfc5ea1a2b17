import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, SELECTOR_COLUMN, column } from './columns.ts';
import { defaultTemplate, selectorText, templateCells, validateSelector, validateTemplate } from './pod-template.ts';
import { immutable, nonNegative } from '../validate-fields.ts';

const ALWAYS = ['Always'];

type IntOrString = number | string;

/** A maxSurge/maxUnavailable value: a non-negative integer or a percentage. */
function intOrPercent(v: IntOrString | undefined, field: string): StatusCause[] {
  if (v === undefined) return [];
  if (typeof v === 'number') return nonNegative(v, field);
  const m = /^(\d+)%$/.exec(v);
  if (!m)
    return [
      fieldErrors.invalid(
        field,
        v,
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ),
    ];
  return Number(m[1]) > 100 ? [fieldErrors.invalid(field, v, 'must not be greater than 100%')] : [];
}

function isZero(v: IntOrString | undefined): boolean {
  return v === 0 || v === '0%';
}

function status<T>(obj: Obj): T {
  return (obj.status ?? {}) as T;
}

/** Resets status on create, as every workload strategy does. */
function freshStatus(obj: Obj): void {
  obj.status = {};
}

const asDeployment = (o: Obj) => o as unknown as Deployment;

export const deploymentStrategy: Strategy = {
  defaults(obj) {
    const d = asDeployment(obj);
    const spec = (d.spec ??= { selector: {}, template: {} });
    spec.replicas ??= 1;
    spec.strategy ??= { type: 'RollingUpdate' };
    if ((spec.strategy.type ?? 'RollingUpdate') === 'RollingUpdate') {
      spec.strategy.type = 'RollingUpdate';
      spec.strategy.rollingUpdate = { maxUnavailable: '25%', maxSurge: '25%', ...(spec.strategy.rollingUpdate ?? {}) };
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultTemplate(spec.template);
  },
  prepareForCreate: freshStatus,
  validate(obj) {
    const spec = asDeployment(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    const causes = [
      ...nonNegative(spec.replicas, 'spec.replicas'),
      ...validateSelector(spec.selector, spec.template),
      ...validateTemplate(spec.template, 'spec.template', ALWAYS),
    ];
    const type = spec.strategy?.type;
    if (type && type !== 'RollingUpdate' && type !== 'Recreate')
      causes.push(fieldErrors.notSupported('spec.strategy.type', type, ['Recreate', 'RollingUpdate']));
    const ru = spec.strategy?.rollingUpdate;
    if (type === 'Recreate' && ru) causes.push(fieldErrors.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
    if (ru) {
      causes.push(
        ...intOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge'),
        ...intOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'),
      );
      if (isZero(ru.maxSurge) && isZero(ru.maxUnavailable))
        causes.push(fieldErrors.invalid('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
    causes.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'), ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
    if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      causes.push(fieldErrors.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
    return causes;
  },
  validateUpdate(obj, old) {
    return [...(deploymentStrategy.validate?.(obj) ?? []), ...immutable(asDeployment(obj).spec?.selector, asDeployment(old).spec?.selector, 'spec.selector')];
  },
  columns: [
    NAME_COLUMN,
    column('Ready', 'Number of the pod with ready state'),
    column('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    column('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj) {
    const d = asDeployment(obj);
    const s = status<NonNullable<Deployment['status']>>(obj);
    return [
      obj.metadata.name,
      `${s.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      s.updatedReplicas ?? 0,
      s.availableReplicas ?? 0,
      age(obj.metadata.creationTimestamp),
      ...templateCells(d.spec?.template?.spec),
      selectorText(d.spec?.selector),
    ];
  },
};

const asReplicaSet = (o: Obj) => o as unknown as ReplicaSet;

export const replicaSetStrategy: Strategy = {
  requiredStatus: { replicas: 0 },
  defaults(obj) {
    const spec = (asReplicaSet(obj).spec ??= { selector: {} });
    spec.replicas ??= 1;
    defaultTemplate(spec.template);
  },
  prepareForCreate: freshStatus,
  validate(obj) {
    const spec = asReplicaSet(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    return [
      ...nonNegative(spec.replicas, 'spec.replicas'),
      ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
      ...validateSelector(spec.selector, spec.template),
      ...(spec.template ? validateTemplate(spec.template, 'spec.template', ALWAYS) : []),
    ];
  },
  validateUpdate(obj, old) {
    return [...(replicaSetStrategy.validate?.(obj) ?? []), ...immutable(asReplicaSet(obj).spec?.selector, asReplicaSet(old).spec?.selector, 'spec.selector')];
  },
  selectableFields: ['status.replicas'],
  columns: [
    NAME_COLUMN,
    column('Desired', 'Replicas is the number of desired replicas.'),
    column('Current', 'Replicas is the most recently observed number of replicas.'),
    column('Ready', 'The number of ready replicas for this replica set.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj) {
    const rs = asReplicaSet(obj);
    const s = status<NonNullable<ReplicaSet['status']>>(obj);
    return [
      obj.metadata.name,
      rs.spec?.replicas ?? 0,
      s.replicas ?? 0,
      s.readyReplicas ?? 0,
      age(obj.metadata.creationTimestamp),
      ...templateCells(rs.spec?.template?.spec),
      selectorText(rs.spec?.selector),
    ];
  },
};

const asStatefulSet = (o: Obj) => o as unknown as StatefulSet;

/** StatefulSet spec fields an update may change. */
const STS_MUTABLE = ['replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'ordinals', 'revisionHistoryLimit'];

/** StatefulSet defaults, applied on every write as Kubernetes' defaulting is (a patch may drop them, e.g. by replacing volumeClaimTemplates). */
function defaultStatefulSet(obj: Obj): void {
  const spec = (asStatefulSet(obj).spec ??= { selector: {}, template: {}, serviceName: '' });
  spec.replicas ??= 1;
  spec.podManagementPolicy ??= 'OrderedReady';
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ??= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') spec.updateStrategy.rollingUpdate = { partition: 0, ...(spec.updateStrategy.rollingUpdate ?? {}) };
  spec.revisionHistoryLimit ??= 10;
  spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
  for (const claim of spec.volumeClaimTemplates ?? []) {
    claim.apiVersion ??= 'v1';
    claim.kind ??= 'PersistentVolumeClaim';
    if (claim.spec) claim.spec.volumeMode ??= 'Filesystem';
  }
  defaultTemplate(spec.template);
}

export const statefulSetStrategy: Strategy = {
  requiredStatus: { replicas: 0, availableReplicas: 0 },
  defaults: defaultStatefulSet,
  prepareForCreate: freshStatus,
  validate(obj) {
    const spec = asStatefulSet(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    const causes = [
      ...nonNegative(spec.replicas, 'spec.replicas'),
      ...validateSelector(spec.selector, spec.template),
      ...validateTemplate(spec.template, 'spec.template', ALWAYS),
    ];
    const policy = spec.podManagementPolicy;
    if (policy && policy !== 'OrderedReady' && policy !== 'Parallel')
      causes.push(fieldErrors.notSupported('spec.podManagementPolicy', policy, ['OrderedReady', 'Parallel']));
    const type = spec.updateStrategy?.type;
    if (type && type !== 'RollingUpdate' && type !== 'OnDelete')
      causes.push(fieldErrors.notSupported('spec.updateStrategy.type', type, ['OnDelete', 'RollingUpdate']));
    causes.push(...nonNegative(spec.updateStrategy?.rollingUpdate?.partition, 'spec.updateStrategy.rollingUpdate.partition'));
    return causes;
  },
  validateUpdate(obj, old) {
    const causes = statefulSetStrategy.validate?.(obj) ?? [];
    const strip = (s: Obj) =>
      Object.fromEntries(Object.entries((asStatefulSet(s).spec ?? {}) as Record<string, unknown>).filter(([k]) => !STS_MUTABLE.includes(k)));
    if (JSON.stringify(strip(obj)) !== JSON.stringify(strip(old))) {
      causes.push(
        fieldErrors.forbidden(
          'spec',
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      );
    }
    return causes;
  },
  columns: [NAME_COLUMN, column('Ready', 'Number of the pod with ready state'), AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN],
  cells(obj) {
    const sts = asStatefulSet(obj);
    const s = status<NonNullable<StatefulSet['status']>>(obj);
    return [
      obj.metadata.name,
      `${s.readyReplicas ?? 0}/${sts.spec?.replicas ?? 0}`,
      age(obj.metadata.creationTimestamp),
      ...templateCells(sts.spec?.template?.spec),
    ];
  },
};

const asDaemonSet = (o: Obj) => o as unknown as DaemonSet;

export const daemonSetStrategy: Strategy = {
  requiredStatus: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
  defaults(obj) {
    const spec = (asDaemonSet(obj).spec ??= { selector: {}, template: {} });
    spec.updateStrategy ??= {};
    spec.updateStrategy.type ??= 'RollingUpdate';
    if (spec.updateStrategy.type === 'RollingUpdate')
      spec.updateStrategy.rollingUpdate = { maxUnavailable: 1, maxSurge: 0, ...(spec.updateStrategy.rollingUpdate ?? {}) };
    spec.revisionHistoryLimit ??= 10;
    defaultTemplate(spec.template);
  },
  prepareForCreate: freshStatus,
  validate(obj) {
    const spec = asDaemonSet(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    const causes = [...validateSelector(spec.selector, spec.template), ...validateTemplate(spec.template, 'spec.template', ALWAYS)];
    const type = spec.updateStrategy?.type;
    if (type && type !== 'RollingUpdate' && type !== 'OnDelete')
      causes.push(fieldErrors.notSupported('spec.updateStrategy.type', type, ['OnDelete', 'RollingUpdate']));
    const ru = spec.updateStrategy?.rollingUpdate;
    if (ru)
      causes.push(
        ...intOrPercent(ru.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge'),
        ...intOrPercent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'),
      );
    return causes;
  },
  validateUpdate(obj, old) {
    return [...(daemonSetStrategy.validate?.(obj) ?? []), ...immutable(asDaemonSet(obj).spec?.selector, asDaemonSet(old).spec?.selector, 'spec.selector')];
  },
  columns: [
    NAME_COLUMN,
    column('Desired', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).'),
    column('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    column('Ready', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    column('Up-to-date', 'The total number of nodes that are running updated daemon pod'),
    column(
      'Available',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
    ),
    column('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj) {
    const ds = asDaemonSet(obj);
    const s = status<Partial<NonNullable<DaemonSet['status']>>>(obj);
    const nodeSelector =
      Object.entries(ds.spec?.template?.spec?.nodeSelector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '<none>';
    return [
      obj.metadata.name,
      s.desiredNumberScheduled ?? 0,
      s.currentNumberScheduled ?? 0,
      s.numberReady ?? 0,
      s.updatedNumberScheduled ?? 0,
      s.numberAvailable ?? 0,
      nodeSelector,
      age(obj.metadata.creationTimestamp),
      ...templateCells(ds.spec?.template?.spec),
      selectorText(ds.spec?.selector),
    ];
  },
};

export const controllerRevisionStrategy: Strategy = {
  validateUpdate(obj, old) {
    return immutable(obj.data, old.data, 'data');
  },
  columns: [NAME_COLUMN, column('Controller', 'Controller of the object'), column('Revision', 'Revision number'), AGE_COLUMN],
  cells(obj) {
    const owner = (obj.metadata.ownerReferences as { kind: string; name: string; controller?: boolean }[] | undefined)?.find((o) => o.controller);
    return [obj.metadata.name, owner ? `${owner.kind.toLowerCase()}.apps/${owner.name}` : '<none>', obj.revision ?? 0, age(obj.metadata.creationTimestamp)];
  },
};
