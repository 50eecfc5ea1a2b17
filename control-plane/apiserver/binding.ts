import { ApiError, errors, rfc3339 } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';

/** POST pods/{name}/binding: assigns the pod to a node, once. */
export async function bindPod(
  pods: Registry,
  namespace: string,
  name: string,
  binding: { target?: { name?: string }; metadata?: { name?: string } },
): Promise<void> {
  const node = binding.target?.name;
  if (!node) throw errors.invalid('Binding', '', name, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
  if (binding.metadata?.name && binding.metadata.name !== name)
    throw errors.badRequest(`the name of the binding (${binding.metadata.name}) does not match the pod (${name})`);
  await pods.guaranteedUpdate(
    namespace,
    name,
    (pod) => {
      const spec = pod.spec as { nodeName?: string };
      if (pod.metadata.deletionTimestamp)
        throw new ApiError('Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is being deleted, cannot be assigned to a host`);
      if (spec.nodeName)
        throw new ApiError('Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${spec.nodeName}"`);
      spec.nodeName = node;
      const status = (pod.status ??= {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: null }[] };
      const conditions = (status.conditions ??= []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339() });
      status.conditions = conditions;
      return pod;
    },
    { subresource: 'binding' },
  );
}
