import type { Pod } from 'kubernetes-types/core/v1.js';
import { MIRROR_POD_ANNOTATION, formatQuantity, parseQuantity } from '../../apimachinery/index.ts';
import type { PodUsage } from '../stats/index.ts';
import { SIGNAL_RESOURCE, type Observations, type StarvedResource } from './signals.ts';
import { thresholdQuantity, type Threshold } from './thresholds.ts';

/** The reason an evicted (or refused) pod carries. */
export const EVICTED = 'Evicted';

const bytesResource = (r: StarvedResource) => r === 'memory' || r === 'ephemeral-storage';

/**
 * The kubelet's eviction message: the starved resource, the threshold and
 * what was available, and (memory) each container using more than it requested.
 */
export function evictionMessage(resource: StarvedResource, pod: Pod, usage: PodUsage | undefined, met: readonly Threshold[], obs: Observations): string {
  let message = `The node was low on resource: ${resource}. `;
  const format = bytesResource(resource) ? 'BinarySI' : 'DecimalSI';
  const threshold = met.find((t) => SIGNAL_RESOURCE[t.signal] === resource && obs[t.signal]);
  const o = threshold && obs[threshold.signal];
  if (threshold && o) {
    const quantity = thresholdQuantity(threshold.value, o.capacity);
    message += `Threshold quantity: ${formatQuantity(quantity, 'percentage' in threshold.value ? 'BinarySI' : format)}, available: ${formatQuantity(o.available, format)}. `;
  }
  if (resource === 'memory' && usage) {
    for (const c of pod.spec?.containers ?? []) {
      const used = usage.containers.get(c.name);
      if (used === undefined) continue;
      const request = c.resources?.requests?.memory;
      const requested = request !== undefined ? parseQuantity(request) : 0;
      if (used > requested)
        message += `Container ${c.name} was using ${formatQuantity(used, 'BinarySI')}, request is ${request ?? '0'}, has larger consumption of memory. `;
    }
  }
  return message;
}

/** The kubelet's admission refusal under pressure: "The node had condition: [DiskPressure]. " */
export function conditionMessage(conditions: readonly string[]): string {
  return `The node had condition: [${conditions.join(' ')}]. `;
}

/** system-cluster-critical and above */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/** Static, mirror and system-critical pods: never evicted, always admitted. */
export function isCriticalPod(pod: Pod): boolean {
  const a = pod.metadata?.annotations ?? {};
  const source = a['kubernetes.io/config.source'];
  if ((source && source !== 'api') || a[MIRROR_POD_ANNOTATION] !== undefined) return true;
  return (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}
