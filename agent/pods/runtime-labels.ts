// Labels the agent puts on sandboxes and containers (the kubelet's names, so
// tools like crictl show them as usual); the runtime is the truth about pods.

export const POD_NAME = 'io.kubernetes.pod.name';
export const POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const POD_UID = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME = 'io.kubernetes.container.name';
/** marks what this agent created, and for which node, so adoption and cleanup never touch anything else */
export const MANAGED_BY = 'io.skiff.node';

export const CONTAINER_KIND = 'io.skiff.container.kind';

export function podLabels(pod: { name: string; namespace: string; uid: string }, nodeName: string): Record<string, string> {
  return { [POD_NAME]: pod.name, [POD_NAMESPACE]: pod.namespace, [POD_UID]: pod.uid, [MANAGED_BY]: nodeName };
}
