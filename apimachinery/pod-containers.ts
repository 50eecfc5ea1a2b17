import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';

/**
 * Every container of a pod: init, app and ephemeral ones, in that order (an
 * ephemeral container has a container's shape, less what it may not set).
 */
export function podContainers(spec: PodSpec | undefined): Container[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...((spec?.ephemeralContainers ?? []) as Container[])];
}
