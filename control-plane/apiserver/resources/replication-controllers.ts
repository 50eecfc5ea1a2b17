import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import { fieldErrors } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { nonNegative } from '../validate-fields.ts';
import { age } from './age.ts';
import { AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, SELECTOR_COLUMN, column } from './columns.ts';
import { defaultTemplate, selectorText, templateCells, validateSelector, validateTemplate } from './pod-template.ts';

const asController = (o: Obj) => o as unknown as ReplicationController;

/**
 * ReplicationController (v1), the ReplicaSet's forerunner: its selector is a
 * plain label map, taken from the template's labels when left out (and the
 * controller's own labels too), as Kubernetes defaults it.
 */
export const replicationControllerStrategy: Strategy = {
  requiredStatus: { replicas: 0 },
  defaults(obj) {
    const spec = (asController(obj).spec ??= {});
    spec.replicas ??= 1;
    defaultTemplate(spec.template);
    const labels = spec.template?.metadata?.labels;
    if (labels && Object.keys(labels).length) {
      if (!spec.selector || !Object.keys(spec.selector).length) spec.selector = { ...labels };
      if (!obj.metadata.labels || !Object.keys(obj.metadata.labels).length) obj.metadata.labels = { ...labels };
    }
  },
  prepareForCreate(obj) {
    obj.status = { replicas: 0 };
  },
  validate(obj) {
    const spec = asController(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    const selector = spec.selector ?? {};
    return [
      ...nonNegative(spec.replicas, 'spec.replicas'),
      ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
      ...(Object.keys(selector).length ? validateSelector({ matchLabels: selector }, spec.template ?? undefined) : [fieldErrors.required('spec.selector')]),
      ...validateTemplate(spec.template ?? undefined, 'spec.template', ['Always']),
    ];
  },
  columns: [
    NAME_COLUMN,
    column('Desired', 'Replicas is the number of desired replicas.'),
    column('Current', 'Replicas is the most recently observed number of replicas.'),
    column('Ready', 'The number of ready replicas for this replication controller.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(obj) {
    const rc = asController(obj);
    return [
      obj.metadata.name,
      rc.spec?.replicas ?? 0,
      rc.status?.replicas ?? 0,
      rc.status?.readyReplicas ?? 0,
      age(obj.metadata.creationTimestamp),
      ...templateCells(rc.spec?.template?.spec),
      selectorText({ matchLabels: rc.spec?.selector ?? {} }),
    ];
  },
};
