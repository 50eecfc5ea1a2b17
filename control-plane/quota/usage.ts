import type { PersistentVolumeClaim, Pod, ResourceRequirements, Service } from 'kubernetes-types/core/v1.js';
import { milliCpu, parseQuantity, qosClass } from '../../apimachinery/index.ts';

/** An object as quota counts it: which resource it is, and its spec. */
export interface Counted {
  /** plural resource with group: pods, services, deployments.apps */
  resource: string;
  obj: { spec?: unknown; status?: { phase?: string } };
}

const CORE_COUNTED: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  resourcequotas: 'resourcequotas',
  replicationcontrollers: 'replicationcontrollers',
};

const isTerminalPod = (c: Counted) => c.resource === 'pods' && (c.obj.status?.phase === 'Succeeded' || c.obj.status?.phase === 'Failed');

function podSum(pod: Pod, kind: 'requests' | 'limits', resource: 'cpu' | 'memory'): number {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const v = (c.resources as ResourceRequirements | undefined)?.[kind]?.[resource] ?? (kind === 'requests' ? c.resources?.limits?.[resource] : undefined);
    if (v !== undefined) sum += resource === 'cpu' ? milliCpu(v) : parseQuantity(v);
  }
  return sum;
}

/**
 * How much of one quota resource name an object uses: 1 for the object
 * counts (pods, services, count/deployments.apps …), its requests or limits
 * for compute resources (cpu in millicores, memory in bytes), its storage
 * request for claims; 0 when the name does not concern it.
 */
export function usageOf(name: string, c: Counted): number {
  if (isTerminalPod(c)) return 0;
  if (name === `count/${c.resource}` || CORE_COUNTED[name] === c.resource) return 1;
  if (c.resource === 'services') {
    const type = (c.obj as Service).spec?.type;
    if (name === 'services.nodeports') return type === 'NodePort' || type === 'LoadBalancer' ? ((c.obj as Service).spec?.ports ?? []).length : 0;
    if (name === 'services.loadbalancers') return type === 'LoadBalancer' ? 1 : 0;
  }
  if (c.resource === 'pods') {
    const pod = c.obj as Pod;
    switch (name) {
      case 'cpu':
      case 'requests.cpu':
        return podSum(pod, 'requests', 'cpu');
      case 'memory':
      case 'requests.memory':
        return podSum(pod, 'requests', 'memory');
      case 'limits.cpu':
        return podSum(pod, 'limits', 'cpu');
      case 'limits.memory':
        return podSum(pod, 'limits', 'memory');
    }
  }
  if (c.resource === 'persistentvolumeclaims' && name === 'requests.storage') {
    const r = (c.obj as PersistentVolumeClaim).spec?.resources?.requests?.storage;
    return r !== undefined ? parseQuantity(r) : 0;
  }
  return 0;
}

/** The hard limit as a number in the same unit usageOf uses. */
export function limitOf(name: string, hard: string): number {
  return name.endsWith('cpu') || name === 'cpu' ? milliCpu(hard) : parseQuantity(hard);
}

/** A used amount as a quantity string: millicores for cpu, binary suffixes for bytes when exact. */
export function formatUsage(name: string, amount: number): string {
  if (name.endsWith('cpu')) return amount % 1000 === 0 ? String(amount / 1000) : `${amount}m`;
  if (name.endsWith('memory') || name.endsWith('storage')) {
    for (const [suffix, size] of [
      ['Gi', 2 ** 30],
      ['Mi', 2 ** 20],
      ['Ki', 2 ** 10],
    ] as const)
      if (amount > 0 && amount % size === 0) return `${amount / size}${suffix}`;
  }
  return String(amount);
}

/** The resources (plural, with group) whose objects a quota's hard limits count. */
export function countedResources(hard: Record<string, string>): Set<string> {
  const out = new Set<string>();
  for (const name of Object.keys(hard)) {
    if (name.startsWith('count/')) out.add(name.slice('count/'.length));
    else if (CORE_COUNTED[name]) out.add(CORE_COUNTED[name]);
    else if (name.startsWith('services.')) out.add('services');
    else if (name === 'requests.storage') out.add('persistentvolumeclaims');
    else out.add('pods');
  }
  return out;
}

/** Whether a pod's (anti-)affinity terms reach pods of other namespaces: a term naming namespaces or a namespace selector. */
function crossNamespaceAffinity(pod: Pod): boolean {
  const { podAffinity, podAntiAffinity } = pod.spec?.affinity ?? {};
  const terms = [podAffinity, podAntiAffinity].flatMap((a) => [
    ...(a?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => w.podAffinityTerm),
  ]);
  return terms.some((t) => (t.namespaces?.length ?? 0) > 0 || t.namespaceSelector !== undefined);
}

/** What a quota's scopes look at: its scopes and its scope selector. */
export interface QuotaScopes {
  scopes?: string[];
  scopeSelector?: { matchExpressions?: { scopeName: string; operator: string; values?: string[] }[] };
}

/**
 * Whether an object counts against a scoped quota, as Kubernetes' quota
 * evaluators decide: a quota with scopes tracks pods only, and of those the
 * ones every scope matches (Terminating: activeDeadlineSeconds set;
 * BestEffort: no requests or limits; PriorityClass: by the selector's
 * operator; CrossNamespacePodAffinity: an affinity term reaching other
 * namespaces). A quota without scopes counts everything.
 */
export function inQuotaScope(q: QuotaScopes, c: Counted): boolean {
  const selected = (q.scopeSelector?.matchExpressions ?? []).map((e) => ({ scope: e.scopeName, operator: e.operator, values: e.values ?? [] }));
  const all = [...(q.scopes ?? []).map((scope) => ({ scope, operator: 'Exists', values: [] as string[] })), ...selected];
  if (all.length === 0) return true;
  if (c.resource !== 'pods') return false;
  const pod = c.obj as Pod;
  const terminating = pod.spec?.activeDeadlineSeconds !== undefined && pod.spec.activeDeadlineSeconds >= 0;
  const bestEffort = qosClass(pod.spec ?? { containers: [] }) === 'BestEffort';
  return all.every(({ scope, operator, values }) => {
    switch (scope) {
      case 'Terminating':
        return terminating;
      case 'NotTerminating':
        return !terminating;
      case 'BestEffort':
        return bestEffort;
      case 'NotBestEffort':
        return !bestEffort;
      case 'CrossNamespacePodAffinity':
        return crossNamespaceAffinity(pod);
      case 'PriorityClass': {
        const name = pod.spec?.priorityClassName;
        if (operator === 'In') return name !== undefined && values.includes(name);
        if (operator === 'NotIn') return name === undefined || !values.includes(name);
        if (operator === 'Exists') return !!name;
        return !name;
      }
      default:
        return false;
    }
  });
}
