import type { PodSpec } from 'kubernetes-types/core/v1.js';
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import { ApiError, parseQuantity } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';
import type { Obj } from './resource-info.ts';

// The RuntimeClass admission plugin: a pod naming a RuntimeClass gets the
// class's overhead and its scheduling (node selector, tolerations); naming a
// class that does not exist, or an overhead of its own that is not the
// class's, is refused, each with kube-apiserver's words.

const refused = (pod: Obj, why: string) => new ApiError('Forbidden', `pods "${pod.metadata.name ?? pod.metadata.generateName ?? ''}" is forbidden: ${why}`);
const OVERHEAD_MISMATCH = "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead";

async function runtimeClassOf(runtimeClasses: Registry, pod: Obj): Promise<RuntimeClass | undefined> {
  const name = (pod.spec as PodSpec | undefined)?.runtimeClassName;
  if (!name) return undefined;
  try {
    return (await runtimeClasses.get(undefined, name)) as unknown as RuntimeClass;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) throw refused(pod, `pod rejected: RuntimeClass "${name}" not found`);
    throw err;
  }
}

/** Whether two resource lists hold the same quantities (1Gi and 1024Mi alike). */
function sameResources(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] !== undefined && b[k] !== undefined && parseQuantity(String(a[k])) === parseQuantity(String(b[k])));
}

/** The mutating half: the class's overhead and scheduling onto the pod. */
export async function admitRuntimeClass(runtimeClasses: Registry, pod: Obj): Promise<void> {
  const rc = await runtimeClassOf(runtimeClasses, pod);
  const spec = pod.spec as PodSpec | undefined;
  if (!rc || !spec) return;
  const fixed = rc.overhead?.podFixed;
  if (fixed) {
    if (spec.overhead && !sameResources(spec.overhead, fixed)) throw refused(pod, OVERHEAD_MISMATCH);
    spec.overhead = { ...fixed };
  }
  const scheduling = rc.scheduling;
  for (const [key, value] of Object.entries(scheduling?.nodeSelector ?? {})) {
    const existing = spec.nodeSelector?.[key];
    if (existing !== undefined && existing !== value)
      throw refused(pod, `conflict: runtimeClass.scheduling.nodeSelector[${key}] = ${value}; pod.spec.nodeSelector[${key}] = ${existing}`);
    spec.nodeSelector = { ...spec.nodeSelector, [key]: value };
  }
  for (const t of scheduling?.tolerations ?? []) {
    const same = (o: typeof t) => JSON.stringify(o) === JSON.stringify(t);
    if (!(spec.tolerations ?? []).some(same)) spec.tolerations = [...(spec.tolerations ?? []), t];
  }
}

/** The validating half: a pod's overhead must be its class's. */
export async function validateRuntimeClass(runtimeClasses: Registry, pod: Obj): Promise<void> {
  const overhead = (pod.spec as PodSpec | undefined)?.overhead;
  const fixed = (await runtimeClassOf(runtimeClasses, pod))?.overhead?.podFixed;
  if (fixed) {
    if (!overhead || !sameResources(overhead, fixed)) throw refused(pod, OVERHEAD_MISMATCH);
  } else if (overhead) throw refused(pod, 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
}
