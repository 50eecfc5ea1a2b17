import type { FlowSchema, PriorityLevelConfiguration } from 'kubernetes-types/flowcontrol/v1.js';
import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';

// API Priority and Fairness' configuration (flowcontrol.apiserver.k8s.io/v1):
// FlowSchemas and PriorityLevelConfigurations, served with Kubernetes'
// defaults and validation, and the mandatory objects every cluster has. The
// server does not queue requests by them yet; they are there for the tools
// and charts that read and write them.

const asSchema = (o: Obj) => o as unknown as FlowSchema;
const asLevel = (o: Obj) => o as unknown as PriorityLevelConfiguration;
const SUBJECT_KINDS = ['User', 'Group', 'ServiceAccount'];
const LEVEL_TYPES = ['Exempt', 'Limited'];
const AUTOUPDATE = { 'apf.kubernetes.io/autoupdate-spec': 'true' };

export const flowSchemaStrategy: Strategy = {
  defaults(obj) {
    const spec = (asSchema(obj).spec ??= { priorityLevelConfiguration: { name: '' } });
    spec.matchingPrecedence ??= 1000;
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate(obj) {
    const spec = asSchema(obj).spec;
    const causes: StatusCause[] = [];
    if (!spec?.priorityLevelConfiguration?.name) causes.push(fieldErrors.required('spec.priorityLevelConfiguration.name', 'must reference a priority level'));
    const precedence = spec?.matchingPrecedence ?? 1000;
    if (precedence < 1 || precedence > 10000)
      causes.push(fieldErrors.invalid('spec.matchingPrecedence', precedence, 'must be between 1 and 10000 inclusively'));
    (spec?.rules ?? []).forEach((rule, i) => {
      if (!rule.subjects?.length) causes.push(fieldErrors.required(`spec.rules[${i}].subjects`, 'subjects must contain at least one value'));
      rule.subjects?.forEach((s, j) => {
        if (!SUBJECT_KINDS.includes(s.kind)) causes.push(fieldErrors.notSupported(`spec.rules[${i}].subjects[${j}].kind`, s.kind, SUBJECT_KINDS));
      });
      if (!rule.resourceRules?.length && !rule.nonResourceRules?.length)
        causes.push(fieldErrors.required(`spec.rules[${i}]`, 'at least one of resourceRules and nonResourceRules has to be non-empty'));
    });
    return causes;
  },
  columns: [
    NAME_COLUMN,
    column('PriorityLevel', 'The priority level the matching requests go to.'),
    column('MatchingPrecedence', 'The order in which flow schemas are matched.'),
    column('DistinguisherMethod', 'How flows are told apart.'),
    AGE_COLUMN,
  ],
  cells: (obj) => {
    const spec = asSchema(obj).spec;
    return [
      obj.metadata.name,
      spec?.priorityLevelConfiguration?.name,
      spec?.matchingPrecedence,
      spec?.distinguisherMethod?.type ?? '<none>',
      age(obj.metadata.creationTimestamp),
    ];
  },
};

export const priorityLevelConfigurationStrategy: Strategy = {
  defaults(obj) {
    const spec = asLevel(obj).spec;
    if (spec?.type === 'Limited' && spec.limited) {
      spec.limited.nominalConcurrencyShares ??= 30;
      spec.limited.lendablePercent ??= 0;
      const response = (spec.limited.limitResponse ??= { type: 'Reject' });
      if (response.type === 'Queue') response.queuing = { queues: 64, handSize: 8, queueLengthLimit: 50, ...response.queuing };
    }
    if (spec?.type === 'Exempt') spec.exempt = { nominalConcurrencyShares: 0, lendablePercent: 0, ...spec.exempt };
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate(obj) {
    const spec = asLevel(obj).spec;
    const type = spec?.type ?? '';
    if (!LEVEL_TYPES.includes(type)) return [fieldErrors.notSupported('spec.type', type, LEVEL_TYPES)];
    if (type === 'Limited' && !spec?.limited) return [fieldErrors.required('spec.limited', 'must not be empty when type is Limited')];
    if (type === 'Exempt' && spec?.limited) return [fieldErrors.forbidden('spec.limited', 'must be nil if the type is not Limited')];
    return [];
  },
  columns: [NAME_COLUMN, column('Type', 'Exempt or Limited.'), column('NominalConcurrencyShares', 'The share of concurrency this level gets.'), AGE_COLUMN],
  cells: (obj) => {
    const spec = asLevel(obj).spec;
    return [obj.metadata.name, spec?.type, spec?.limited?.nominalConcurrencyShares ?? '<none>', age(obj.metadata.creationTimestamp)];
  },
};

const everything = {
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
};

/** The priority levels and flow schemas every cluster has (kube-apiserver's mandatory configuration). */
export const MANDATORY_FLOW_CONTROL: { resource: 'prioritylevelconfigurations' | 'flowschemas'; obj: Obj }[] = [
  {
    resource: 'prioritylevelconfigurations',
    obj: { metadata: { name: 'exempt', annotations: AUTOUPDATE }, spec: { type: 'Exempt', exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } } },
  },
  {
    resource: 'prioritylevelconfigurations',
    obj: {
      metadata: { name: 'catch-all', annotations: AUTOUPDATE },
      spec: { type: 'Limited', limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: 'Reject' } } },
    },
  },
  {
    resource: 'flowschemas',
    obj: {
      metadata: { name: 'exempt', annotations: AUTOUPDATE },
      spec: {
        priorityLevelConfiguration: { name: 'exempt' },
        matchingPrecedence: 1,
        rules: [{ subjects: [{ kind: 'Group', group: { name: 'system:masters' } }], ...everything }],
      },
    },
  },
  {
    resource: 'flowschemas',
    obj: {
      metadata: { name: 'catch-all', annotations: AUTOUPDATE },
      spec: {
        priorityLevelConfiguration: { name: 'catch-all' },
        matchingPrecedence: 10000,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [
              { kind: 'Group', group: { name: 'system:unauthenticated' } },
              { kind: 'Group', group: { name: 'system:authenticated' } },
            ],
            ...everything,
          },
        ],
      },
    },
  },
];
