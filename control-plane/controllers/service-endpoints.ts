import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { fromObjectSelector, matchesLabels, namedContainerPort } from '../../apimachinery/index.ts';
import { isPodReady } from './controller-ref.ts';

/** One port of a Service as its endpoints carry it: the pod's port number. */
export interface EndpointPort {
  name?: string;
  protocol: string;
  port: number;
  appProtocol?: string;
}

/** A pod behind a Service, with the conditions EndpointSlices report. */
export interface ServiceEndpoint {
  pod: Pod;
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** Endpoints that share one port mapping (pods can number a named port differently). */
export interface EndpointGroup {
  /** stable text of the ports, to match a group with the slice holding it */
  key: string;
  ports: EndpointPort[];
  endpoints: ServiceEndpoint[];
}

/** The Service's ports resolved against one pod; a named targetPort the pod does not have leaves that port out. */
export function resolvePorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const protocol = sp.protocol ?? 'TCP';
    const target = sp.targetPort ?? sp.port;
    const port = typeof target === 'number' ? target : /^\d+$/.test(target) ? Number(target) : namedContainerPort(pod.spec, target, protocol);
    if (port === undefined) continue;
    out.push({ ...(sp.name ? { name: sp.name } : {}), protocol, port, ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/**
 * The pods a selector Service sends traffic to, grouped by port mapping:
 * pods with an IP that have not finished; ready follows the pod's Ready
 * condition (always, with publishNotReadyAddresses) and is false while the
 * pod terminates, when serving still says whether it answers.
 */
export function serviceEndpoints(svc: Service, pods: Pod[]): EndpointGroup[] {
  const groups = new Map<string, EndpointGroup>();
  const publishAll = svc.spec?.publishNotReadyAddresses === true;
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    const phase = pod.status?.phase;
    if (!ip || phase === 'Succeeded' || phase === 'Failed') continue;
    const terminating = !!pod.metadata?.deletionTimestamp;
    const serving = publishAll || isPodReady(pod);
    const ports = resolvePorts(svc, pod);
    const key = JSON.stringify(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { key, ports, endpoints: [] }));
    group.endpoints.push({ pod, ip, ready: serving && !terminating, serving, terminating });
  }
  for (const g of groups.values()) g.endpoints.sort((a, b) => (a.pod.metadata?.name ?? '').localeCompare(b.pod.metadata?.name ?? ''));
  return [...groups.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** The selector Services of the pod's namespace that select it (or selected it before a change of labels). */
export function servicesSelecting(services: Service[], pod: Pod, old?: Pod): Service[] {
  return services.filter((svc) => {
    if (svc.metadata?.namespace !== pod.metadata?.namespace || !svc.spec?.selector) return false;
    const selector = fromObjectSelector({ matchLabels: svc.spec.selector });
    return matchesLabels(selector, pod.metadata?.labels) || (old !== undefined && matchesLabels(selector, old.metadata?.labels));
  });
}

/** The pods of the Service's namespace its selector matches. */
export function selectedPods(svc: Service, pods: Pod[]): Pod[] {
  const selector = fromObjectSelector({ matchLabels: svc.spec?.selector ?? {} });
  return pods.filter((p) => p.metadata?.namespace === svc.metadata?.namespace && matchesLabels(selector, p.metadata?.labels));
}
