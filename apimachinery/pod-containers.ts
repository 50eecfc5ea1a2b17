import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';

/**
 * Every container of a pod: init, app and ephemeral ones, in that order (an
 * ephemeral container has a container's shape, less what it may not set).
 */
export function podContainers(spec: PodSpec | undefined): Container[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...((spec?.ephemeralContainers ?? []) as Container[])];
}

/** The number of the port a pod's app containers give this name and protocol (a Service's named targetPort, a policy's named port). */
export function namedContainerPort(spec: PodSpec | undefined, name: string, protocol: string): number | undefined {
  for (const c of spec?.containers ?? []) {
    const port = c.ports?.find((p) => p.name === name && (p.protocol ?? 'TCP') === protocol);
    if (port) return port.containerPort;
  }
  return undefined;
}
