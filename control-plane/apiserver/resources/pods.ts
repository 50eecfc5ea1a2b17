import type { Container, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { fieldErrors, isQuantity, parseQuantity, qosClass, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy, TableColumn } from '../resource-info.ts';
import { dns1123Label } from '../validate-meta.ts';
import { age } from './age.ts';
import { imageReferenceError, imageTag } from './image-reference.ts';
import { NAME_COLUMN, AGE_COLUMN } from './columns.ts';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

const asPod = (o: Obj) => o as unknown as Pod;

function defaultContainer(c: Container): void {
  if (!c.imagePullPolicy && c.image) {
    const tag = imageTag(c.image);
    c.imagePullPolicy = !c.image.includes('@') && (tag === '' || tag === 'latest') ? 'Always' : 'IfNotPresent';
  }
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  defaultRequestsFromLimits(c);
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
}

/** A resource with a limit and no request requests its limit (the API's defaulting, which LimitRanger's checks see too). */
export function defaultRequestsFromLimits(c: Container): void {
  c.resources ??= {};
  if (c.resources.limits) c.resources.requests = { ...c.resources.limits, ...(c.resources.requests ?? {}) };
}

function validateContainer(c: Container, path: string, names: Set<string>): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!c.name) causes.push(fieldErrors.required(`${path}.name`));
  else {
    for (const e of dns1123Label(c.name)) causes.push(fieldErrors.invalid(`${path}.name`, c.name, e));
    if (names.has(c.name)) causes.push(fieldErrors.duplicate(`${path}.name`, c.name));
    names.add(c.name);
  }
  if (!c.image) causes.push(fieldErrors.required(`${path}.image`));
  else {
    const why = imageReferenceError(c.image);
    if (why) causes.push(fieldErrors.invalid(`${path}.image`, c.image, why));
  }
  if (c.imagePullPolicy && !PULL_POLICIES.includes(c.imagePullPolicy))
    causes.push(fieldErrors.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  (c.ports ?? []).forEach((p, i) => {
    if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) {
      causes.push(fieldErrors.invalid(`${path}.ports[${i}].containerPort`, p.containerPort, 'must be between 1 and 65535, inclusive'));
    }
    if (p.protocol && !PROTOCOLS.includes(p.protocol)) causes.push(fieldErrors.notSupported(`${path}.ports[${i}].protocol`, p.protocol, PROTOCOLS));
  });
  (c.env ?? []).forEach((e, i) => {
    if (!e.name) causes.push(fieldErrors.required(`${path}.env[${i}].name`));
  });
  for (const kind of ['requests', 'limits'] as const) {
    for (const [r, q] of Object.entries(c.resources?.[kind] ?? {})) {
      if (!isQuantity(String(q))) causes.push(fieldErrors.invalid(`${path}.resources.${kind}[${r}]`, q, 'must be a valid quantity'));
      else if (parseQuantity(String(q)) < 0) causes.push(fieldErrors.invalid(`${path}.resources.${kind}[${r}]`, q, 'must be greater than or equal to 0'));
    }
  }
  for (const [r, q] of Object.entries(c.resources?.requests ?? {})) {
    const lim = c.resources?.limits?.[r];
    if (lim !== undefined && isQuantity(String(q)) && isQuantity(String(lim)) && parseQuantity(String(q)) > parseQuantity(String(lim))) {
      causes.push(fieldErrors.invalid(`${path}.resources.requests`, q, `must be less than or equal to ${r} limit of ${lim}`));
    }
  }
  return causes;
}

/** Validates a pod spec found at `path` (a pod's `spec`, or a template's `spec.template.spec`). */
export function validatePodSpec(spec: PodSpec | undefined, path = 'spec'): StatusCause[] {
  if (!spec || typeof spec !== 'object') return [fieldErrors.required(path)];
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) causes.push(fieldErrors.required(`${path}.containers`));
  (spec.initContainers ?? []).forEach((c, i) => causes.push(...validateContainer(c, `${path}.initContainers[${i}]`, names)));
  (Array.isArray(spec.containers) ? spec.containers : []).forEach((c, i) => causes.push(...validateContainer(c, `${path}.containers[${i}]`, names)));
  if (spec.restartPolicy && !RESTART_POLICIES.includes(spec.restartPolicy))
    causes.push(fieldErrors.notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (spec.dnsPolicy && !DNS_POLICIES.includes(spec.dnsPolicy)) causes.push(fieldErrors.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0) {
    causes.push(fieldErrors.invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds <= 0) {
    causes.push(fieldErrors.invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  causes.push(...validateSysctls(spec.securityContext?.sysctls ?? [], `${path}.securityContext.sysctls`));
  return causes;
}

/** Kubernetes' sysctl name: dot- (or slash-) separated segments of lower-case alphanumerics, '-' and '_' inside. */
const SYSCTL_NAME = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
const SYSCTL_MAX_LENGTH = 253;

function validateSysctls(sysctls: { name: string; value: string }[], path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  sysctls.forEach((s, i) => {
    if (!s.name) causes.push(fieldErrors.required(`${path}[${i}].name`));
    else if (s.name.length > SYSCTL_MAX_LENGTH || !SYSCTL_NAME.test(s.name))
      causes.push(
        fieldErrors.invalid(
          `${path}[${i}].name`,
          s.name,
          `must have at most ${SYSCTL_MAX_LENGTH} characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`,
        ),
      );
    else if (seen.has(s.name)) causes.push(fieldErrors.duplicate(`${path}[${i}].name`, s.name));
    seen.add(s.name);
  });
  return causes;
}

/** Pod spec fields an update may change; the rest is immutable. */
function mutableView(spec: PodSpec): string {
  const strip = (cs: Container[] | undefined) => (cs ?? []).map((c) => ({ ...c, image: '' }));
  const { activeDeadlineSeconds: _a, tolerations: _t, terminationGracePeriodSeconds: _g, ...rest } = spec;
  return JSON.stringify({ ...rest, containers: strip(spec.containers), initContainers: strip(spec.initContainers) });
}

export const podColumns: readonly TableColumn[] = [
  NAME_COLUMN,
  { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', priority: 0 },
  { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', priority: 0 },
  {
    name: 'Restarts',
    type: 'string',
    description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    priority: 0,
  },
  AGE_COLUMN,
  { name: 'IP', type: 'string', description: 'IP address allocated to the pod. Routable at least within the cluster.', priority: 1 },
  { name: 'Node', type: 'string', description: 'NodeName is a request to schedule this pod onto a specific node.', priority: 1 },
  { name: 'Nominated Node', type: 'string', description: 'nominatedNodeName is set when this pod preempts other pods on the node.', priority: 1 },
  { name: 'Readiness Gates', type: 'string', description: 'If specified, all readiness gates will be evaluated for pod readiness.', priority: 1 },
];

/** The STATUS column `kubectl get pods` shows, computed as Kubernetes' printer does. */
export function podDisplayStatus(pod: Pod): { reason: string; ready: number; total: number; restarts: number } {
  const spec = pod.spec as PodSpec;
  const status = pod.status ?? {};
  let reason = status.reason || status.phase || 'Pending';
  let restarts = 0;
  let ready = 0;
  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (const [i, c] of initStatuses.entries()) {
    restarts += c.restartCount;
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) continue;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    initializing = true;
    break;
  }
  if (!initializing) {
    restarts = 0;
    let hasRunning = false;
    for (const c of [...(status.containerStatuses ?? [])].reverse()) {
      restarts += c.restartCount;
      const t = c.state?.terminated;
      const w = c.state?.waiting;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const podReady = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      reason = podReady ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata?.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return { reason, ready, total: spec.containers.length, restarts };
}

/** The defaults every pod spec gets, in pods and in pod templates alike (SetDefaults_PodSpec). */
export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  for (const c of [...(spec.initContainers ?? []), ...(Array.isArray(spec.containers) ? spec.containers : [])]) defaultContainer(c);
}

/** What admission adds to pods only: priority and the default NoExecute tolerations. */
function admitPod(spec: PodSpec): void {
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.tolerations ??= [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!spec.tolerations.some((t) => t.key === key && t.effect === 'NoExecute')) {
      spec.tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
}

/** A field with something in it: an empty object or list (what kubectl debug sends for resources) is as good as unset. */
const isSet = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'object' && Object.keys(v as object).length === 0);

/** The fields an ephemeral container may not have (it runs once, beside the others, with the pod's resources). */
const EPHEMERAL_FORBIDDEN = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resources', 'restartPolicy'] as const;

/**
 * A write to pods/ephemeralcontainers, as kube-apiserver validates it: the
 * ones the pod has stay exactly as they are; each new one has a name no
 * other container of the pod has, an image, and none of the fields an
 * ephemeral container may not set.
 */
function validateEphemeralContainers(obj: Obj, old: Obj): StatusCause[] {
  const next = asPod(obj).spec?.ephemeralContainers ?? [];
  const before = asPod(old).spec?.ephemeralContainers ?? [];
  const causes: StatusCause[] = [];
  for (const e of before) {
    const now = next.find((n) => n.name === e.name);
    if (!now || JSON.stringify(now) !== JSON.stringify(e))
      return [fieldErrors.forbidden('spec.ephemeralContainers', 'existing ephemeral containers may not be changed')];
  }
  const spec = asPod(old).spec;
  const names = new Set([...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map((c) => c.name));
  next.forEach((e, i) => {
    if (before.some((b) => b.name === e.name)) return;
    const path = `spec.ephemeralContainers[${i}]`;
    causes.push(...validateContainer(e as Container, path, names));
    for (const f of EPHEMERAL_FORBIDDEN)
      if (isSet((e as unknown as Record<string, unknown>)[f])) causes.push(fieldErrors.forbidden(`${path}.${f}`, 'cannot be set for an Ephemeral Container'));
  });
  return causes;
}

export const podStrategy: Strategy = {
  validateEphemeralContainers,
  defaults(obj) {
    defaultPodSpec((asPod(obj).spec ??= { containers: [] }));
  },
  prepareForCreate(obj) {
    const spec = (asPod(obj).spec ??= { containers: [] });
    admitPod(spec);
    let qos: string | undefined;
    try {
      qos = Array.isArray(spec.containers) ? qosClass(spec) : undefined;
    } catch {
      qos = undefined; // bad quantities are reported by validation
    }
    obj.status = { phase: 'Pending', ...(qos ? { qosClass: qos } : {}) };
  },
  validate(obj) {
    return validatePodSpec(asPod(obj).spec);
  },
  validateUpdate(obj, old) {
    const causes = validatePodSpec(asPod(obj).spec);
    const spec = asPod(obj).spec;
    const oldSpec = asPod(old).spec;
    if (causes.length === 0 && spec && oldSpec && mutableView(spec) !== mutableView(oldSpec)) {
      causes.push(
        fieldErrors.forbidden(
          'spec',
          'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        ),
      );
    }
    return causes;
  },
  selectableFields: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  deletionGracePeriod(obj, requested) {
    const pod = asPod(obj);
    if (!pod.spec?.nodeName) return 0;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    return requested ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  },
  columns: podColumns,
  cells(obj) {
    const pod = asPod(obj);
    const s = podDisplayStatus(pod);
    const none = (v: string | undefined) => v || '<none>';
    const gates = pod.spec?.readinessGates ?? [];
    return [
      obj.metadata.name,
      `${s.ready}/${s.total}`,
      s.reason,
      String(s.restarts),
      age(obj.metadata.creationTimestamp),
      none(pod.status?.podIP),
      none(pod.spec?.nodeName),
      none(pod.status?.nominatedNodeName),
      gates.length ? `0/${gates.length}` : '<none>',
    ];
  },
};
