import type { Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from './quantity.ts';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** The QoS class Kubernetes derives from requests and limits. */
export function qosClass(spec: PodSpec): QOSClass {
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      const q = req[r] ?? lim[r];
      if (q !== undefined && parseQuantity(q) !== 0) any = true;
      if (lim[r] === undefined || (req[r] !== undefined && parseQuantity(req[r]) !== parseQuantity(lim[r]))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * What a pod's containers request (or are limited to) of one resource, as
 * Kubernetes counts it: the containers summed, or the largest init container
 * when that is larger.
 */
export function containersTotal(pod: Pod, kind: 'requests' | 'limits', resource: string): number {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const q = c.resources?.[kind]?.[resource];
    if (q !== undefined) sum += parseQuantity(q);
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const q = c.resources?.[kind]?.[resource];
    if (q !== undefined) sum = Math.max(sum, parseQuantity(q));
  }
  return sum;
}

/** A pod's request of one resource as the scheduler counts it: its containers', plus its overhead. */
export function podRequest(pod: Pod, resource: string): number {
  const overhead = pod.spec?.overhead?.[resource];
  return containersTotal(pod, 'requests', resource) + (overhead !== undefined ? parseQuantity(overhead) : 0);
}

/** A pod that has finished (Succeeded or Failed): it holds no resources and runs no more. */
export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * The downward API's resourceFieldRef: a container's limit or request of a
 * resource divided by the divisor (1 unless given) and rounded up, as the
 * kubelet reports it; a limit the container does not set is the node's
 * allocatable, a request it does not set its limit (or 0).
 */
export function resourceFieldValue(o: { pod: Pod; containerName: string; resource: string; divisor?: string; allocatable?: Record<string, string> }): string {
  const c = [...(o.pod.spec?.containers ?? []), ...(o.pod.spec?.initContainers ?? [])].find((x) => x.name === o.containerName);
  const dot = o.resource.indexOf('.');
  const kind = o.resource.slice(0, dot) as 'limits' | 'requests';
  const name = o.resource.slice(dot + 1);
  const limit = c?.resources?.limits?.[name] ?? o.allocatable?.[name];
  const q = kind === 'limits' ? limit : (c?.resources?.requests?.[name] ?? c?.resources?.limits?.[name]);
  const value = parseQuantity(String(q ?? '0'));
  const divisor = parseQuantity(o.divisor ?? '1') || 1;
  // CPU in whole millicores, so 250m / 1m is 250 and not 250.00000000000003
  if (name === 'cpu') return String(Math.ceil(Math.round(value * 1000) / Math.max(1, Math.round(divisor * 1000))));
  return String(Math.ceil(value / divisor));
}
