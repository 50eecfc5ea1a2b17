import type { HorizontalPodAutoscaler, HPAScalingRules, MetricSpec } from 'kubernetes-types/autoscaling/v2.js';
import { fieldErrors, isQuantity, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, StorageMapping, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';

const asHpa = (o: Obj) => o as unknown as HorizontalPodAutoscaler;

/** The target Kubernetes gives an autoscaler that names no metric: 80 % of the pods' CPU requests. */
const DEFAULT_METRIC: MetricSpec = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } };
const METRIC_TYPES = ['Resource', 'ContainerResource', 'Pods', 'Object', 'External'];
const TARGET_TYPES = ['Utilization', 'Value', 'AverageValue'];
const SELECT_POLICIES = ['Max', 'Min', 'Disabled'];

/** A behavior's rules with their gaps filled as Kubernetes fills them (only where a behavior is given at all). */
function scalingRules(rules: HPAScalingRules | undefined, up: boolean): HPAScalingRules {
  return {
    ...rules,
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? (up ? 0 : 300),
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies:
      rules?.policies ??
      (up
        ? [
            { type: 'Pods', value: 4, periodSeconds: 15 },
            { type: 'Percent', value: 100, periodSeconds: 15 },
          ]
        : [{ type: 'Percent', value: 100, periodSeconds: 15 }]),
  };
}

function validateMetric(m: MetricSpec, at: string): StatusCause[] {
  if (!METRIC_TYPES.includes(m.type)) return [fieldErrors.notSupported(`${at}.type`, m.type, METRIC_TYPES)];
  if (m.type !== 'Resource' && m.type !== 'ContainerResource') return [];
  const source = m.type === 'Resource' ? m.resource : m.containerResource;
  const where = `${at}.${m.type === 'Resource' ? 'resource' : 'containerResource'}`;
  if (!source) return [fieldErrors.required(where, `must populate information for the given metric source`)];
  const causes: StatusCause[] = [];
  if (!source.name) causes.push(fieldErrors.required(`${where}.name`, 'must specify a resource name'));
  const target = source.target;
  if (!TARGET_TYPES.includes(target?.type ?? '')) causes.push(fieldErrors.notSupported(`${where}.target.type`, target?.type ?? '', TARGET_TYPES));
  else if (target?.type === 'Utilization' && !((target.averageUtilization ?? 0) > 0))
    causes.push(fieldErrors.required(`${where}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
  else if (target?.type === 'AverageValue' && !isQuantity(String(target.averageValue ?? '')))
    causes.push(fieldErrors.required(`${where}.target.averageValue`, 'must set either a target raw value or a target utilization'));
  return causes;
}

/**
 * HorizontalPodAutoscaler (autoscaling/v2): at least one replica, no more
 * than its maximum; with no metric named, 80 % of the pods' CPU requests.
 */
export const horizontalPodAutoscalerStrategy: Strategy = {
  requiredStatus: { desiredReplicas: 0 },
  defaults(obj) {
    const spec = (asHpa(obj).spec ??= { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } });
    spec.minReplicas ??= 1;
    if (!spec.metrics?.length) spec.metrics = [structuredClone(DEFAULT_METRIC)];
    if (spec.behavior) spec.behavior = { scaleUp: scalingRules(spec.behavior.scaleUp, true), scaleDown: scalingRules(spec.behavior.scaleDown, false) };
  },
  prepareForCreate(obj) {
    obj.status = { desiredReplicas: 0 };
  },
  validate(obj) {
    const spec = asHpa(obj).spec;
    if (!spec) return [fieldErrors.required('spec')];
    const causes: StatusCause[] = [];
    const ref = spec.scaleTargetRef;
    if (!ref?.kind) causes.push(fieldErrors.required('spec.scaleTargetRef.kind'));
    if (!ref?.name) causes.push(fieldErrors.required('spec.scaleTargetRef.name'));
    const min = spec.minReplicas ?? 1;
    if (min < 1) causes.push(fieldErrors.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
    if (!(spec.maxReplicas >= 1)) causes.push(fieldErrors.invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than 0'));
    else if (spec.maxReplicas < min) causes.push(fieldErrors.invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
    (spec.metrics ?? []).forEach((m, i) => causes.push(...validateMetric(m, `spec.metrics[${i}]`)));
    for (const [direction, rules] of [
      ['scaleUp', spec.behavior?.scaleUp],
      ['scaleDown', spec.behavior?.scaleDown],
    ] as const) {
      if (rules?.selectPolicy && !SELECT_POLICIES.includes(rules.selectPolicy))
        causes.push(fieldErrors.notSupported(`spec.behavior.${direction}.selectPolicy`, rules.selectPolicy, SELECT_POLICIES));
      const window = rules?.stabilizationWindowSeconds ?? 0;
      if (window < 0 || window > 3600)
        causes.push(fieldErrors.invalid(`spec.behavior.${direction}.stabilizationWindowSeconds`, window, 'must be between 0 and 3600'));
    }
    return causes;
  },
  columns: [
    NAME_COLUMN,
    column('Reference', 'The kind and name of the scale target.'),
    column('Targets', 'The current and target value of each metric.'),
    column('MinPods', 'The lower limit for the number of replicas.'),
    column('MaxPods', 'The upper limit for the number of replicas.'),
    column('Replicas', 'The current number of replicas.'),
    AGE_COLUMN,
  ],
  cells(obj) {
    const { spec, status } = asHpa(obj);
    return [
      obj.metadata.name,
      `${spec?.scaleTargetRef?.kind}/${spec?.scaleTargetRef?.name}`,
      targetsCell(asHpa(obj)),
      spec?.minReplicas ?? 1,
      spec?.maxReplicas ?? 0,
      status?.currentReplicas ?? 0,
      age(obj.metadata.creationTimestamp),
    ];
  },
};

/** "cpu: 35%/50%", as kubectl prints an autoscaler's resource metrics (<unknown> before the first reading). */
function targetsCell(hpa: HorizontalPodAutoscaler): string {
  return (hpa.spec?.metrics ?? [])
    .map((m, i) => {
      if (m.type !== 'Resource' || !m.resource) return `<${m.type.toLowerCase()}>`;
      const current = hpa.status?.currentMetrics?.[i]?.resource?.current;
      const target = m.resource.target;
      if (target.type === 'Utilization')
        return `${m.resource.name}: ${current?.averageUtilization ?? '<unknown>'}${current ? '%' : ''}/${target.averageUtilization}%`;
      return `${m.resource.name}: ${current?.averageValue ?? '<unknown>'}/${target.averageValue}`;
    })
    .join(', ');
}

// autoscaling/v1 is the same stored objects seen through CPU utilization
// alone: what v1 has no field for (other metrics, their readings, behavior,
// conditions) travels in annotations, as Kubernetes carries it, so an object
// read and written back through v1 loses nothing.
const V1_ANNOTATIONS = {
  metrics: 'autoscaling.alpha.kubernetes.io/metrics',
  currentMetrics: 'autoscaling.alpha.kubernetes.io/current-metrics',
  behavior: 'autoscaling.alpha.kubernetes.io/behavior',
  conditions: 'autoscaling.alpha.kubernetes.io/conditions',
} as const;

interface HpaV1 {
  spec?: { scaleTargetRef?: unknown; minReplicas?: number; maxReplicas?: number; targetCPUUtilizationPercentage?: number };
  status?: {
    observedGeneration?: number;
    lastScaleTime?: string;
    currentReplicas?: number;
    desiredReplicas?: number;
    currentCPUUtilizationPercentage?: number;
  };
}

const isCpuUtilization = (m: MetricSpec) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target.type === 'Utilization';

/** Reads an annotation's JSON (a malformed one counts as absent). */
function annotationJson<T>(annotations: Record<string, string>, key: string): T | undefined {
  const text = annotations[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export const horizontalPodAutoscalerV1Storage: StorageMapping = {
  group: 'autoscaling',
  resource: 'horizontalpodautoscalers',
  toStorage(obj) {
    const v1 = obj as unknown as HpaV1;
    const annotations = { ...(obj.metadata.annotations ?? {}) };
    const others = annotationJson<MetricSpec[]>(annotations, V1_ANNOTATIONS.metrics) ?? [];
    const behavior = annotationJson<HorizontalPodAutoscaler['spec']>(annotations, V1_ANNOTATIONS.behavior);
    const currentOthers = annotationJson<unknown[]>(annotations, V1_ANNOTATIONS.currentMetrics) ?? [];
    const conditions = annotationJson<unknown[]>(annotations, V1_ANNOTATIONS.conditions);
    for (const key of Object.values(V1_ANNOTATIONS)) delete annotations[key];
    const target = v1.spec?.targetCPUUtilizationPercentage;
    const metrics = [
      ...(target !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }] : []),
      ...others,
    ];
    // a v1 autoscaler without a target scales on 80 % CPU, as v2's default
    if (!metrics.length) metrics.push(structuredClone(DEFAULT_METRIC) as (typeof metrics)[number]);
    const current = v1.status?.currentCPUUtilizationPercentage;
    const { targetCPUUtilizationPercentage: _t, ...spec } = v1.spec ?? {};
    const { currentCPUUtilizationPercentage: _c, ...status } = v1.status ?? {};
    return {
      ...obj,
      apiVersion: 'autoscaling/v2',
      metadata: { ...obj.metadata, annotations: Object.keys(annotations).length ? annotations : undefined },
      spec: { ...spec, ...(metrics.length ? { metrics } : {}), ...(behavior ? { behavior } : {}) },
      status: {
        ...status,
        desiredReplicas: status.desiredReplicas ?? 0,
        ...(current !== undefined || currentOthers.length
          ? {
              currentMetrics: [
                ...(current !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }] : []),
                ...currentOthers,
              ],
            }
          : {}),
        ...(conditions ? { conditions } : {}),
      },
    } as Obj;
  },
  fromStorage(obj) {
    const hpa = obj as unknown as HorizontalPodAutoscaler;
    const metrics = hpa.spec?.metrics ?? [];
    const cpu = metrics.find(isCpuUtilization);
    const others = metrics.filter((m) => m !== cpu);
    const current = hpa.status?.currentMetrics ?? [];
    const currentCpu = current.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current.averageUtilization !== undefined);
    const currentOthers = current.filter((m) => m !== currentCpu);
    const annotations: Record<string, string> = { ...(obj.metadata.annotations ?? {}) };
    if (others.length) annotations[V1_ANNOTATIONS.metrics] = JSON.stringify(others);
    if (currentOthers.length) annotations[V1_ANNOTATIONS.currentMetrics] = JSON.stringify(currentOthers);
    if (hpa.spec?.behavior) annotations[V1_ANNOTATIONS.behavior] = JSON.stringify(hpa.spec.behavior);
    if (hpa.status?.conditions?.length) annotations[V1_ANNOTATIONS.conditions] = JSON.stringify(hpa.status.conditions);
    const { metrics: _m, behavior: _b, ...spec } = hpa.spec ?? ({} as NonNullable<HorizontalPodAutoscaler['spec']>);
    const { currentMetrics: _cm, conditions: _c, ...status } = hpa.status ?? ({ desiredReplicas: 0 } as NonNullable<HorizontalPodAutoscaler['status']>);
    return {
      ...obj,
      apiVersion: 'autoscaling/v1',
      metadata: { ...obj.metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
      spec: { ...spec, ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource?.target.averageUtilization } : {}) },
      status: { ...status, ...(currentCpu ? { currentCPUUtilizationPercentage: currentCpu.resource?.current.averageUtilization } : {}) },
    } as Obj;
  },
};

/** The v1 view's own rules: the v2 rules on what it carries. */
export const horizontalPodAutoscalerV1Strategy: Strategy = {
  requiredStatus: { desiredReplicas: 0 },
  defaults(obj) {
    const spec = ((obj as unknown as HpaV1).spec ??= {});
    spec.minReplicas ??= 1;
  },
  prepareForCreate(obj) {
    obj.status = { desiredReplicas: 0 };
  },
  validate(obj) {
    const v1 = obj as unknown as HpaV1;
    const target = v1.spec?.targetCPUUtilizationPercentage;
    const causes = horizontalPodAutoscalerStrategy.validate?.(horizontalPodAutoscalerV1Storage.toStorage(obj)) ?? [];
    if (target !== undefined && !(target >= 1))
      causes.push(fieldErrors.invalid('spec.targetCPUUtilizationPercentage', target, 'must be greater than or equal to 1'));
    return causes;
  },
  columns: horizontalPodAutoscalerStrategy.columns,
  cells: (obj) => horizontalPodAutoscalerStrategy.cells?.(horizontalPodAutoscalerV1Storage.toStorage(obj)) ?? [],
};
