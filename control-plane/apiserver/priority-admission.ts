import type { PodSpec } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { ApiError } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';
import type { Obj } from './resource-info.ts';

/** The two classes every cluster has, as Kubernetes defines them. */
export const SYSTEM_PRIORITY_CLASSES: PriorityClass[] = [
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'system-node-critical' },
    value: 2000001000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'system-cluster-critical' },
    value: 2000000000,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

/**
 * The Priority admission plugin: a new pod's priority (and preemption
 * policy) comes from its PriorityClass, or from the global default class
 * when it names none; naming a class that does not exist is refused.
 */
export async function admitPriority(priorityClasses: Registry, pod: Obj): Promise<void> {
  const spec = pod.spec as PodSpec | undefined;
  if (!spec) return;
  let cls: PriorityClass | undefined;
  if (spec.priorityClassName) {
    try {
      cls = (await priorityClasses.get(undefined, spec.priorityClassName)) as unknown as PriorityClass;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404)
        throw new ApiError(
          'Forbidden',
          `pods "${pod.metadata.name ?? pod.metadata.generateName ?? ''}" is forbidden: no PriorityClass with name ${spec.priorityClassName} was found`,
        );
      throw err;
    }
  } else {
    cls = ((await priorityClasses.list({})).items as unknown as PriorityClass[]).find((c) => c.globalDefault);
    if (cls) spec.priorityClassName = cls.metadata?.name;
  }
  if (!cls) return;
  if (spec.priority !== undefined && spec.priority !== cls.value) {
    throw new ApiError(
      'Forbidden',
      `pods "${pod.metadata.name ?? pod.metadata.generateName ?? ''}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${cls.value} from the given PriorityClass name`,
    );
  }
  spec.priority = cls.value;
  spec.preemptionPolicy = cls.preemptionPolicy ?? spec.preemptionPolicy ?? 'PreemptLowerPriority';
}
