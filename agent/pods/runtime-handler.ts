import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import type { Informer } from '../../apimachinery/index.ts';

/**
 * The CRI handler a pod's sandbox runs under, as the kubelet's RuntimeClass
 * manager finds it: the handler of the RuntimeClass the pod names ('' for
 * none: the runtime's default). A class the cluster does not hold fails the
 * sandbox with the kubelet's words (the sync backs off and tries again).
 */
export function runtimeHandlers(classes: Informer<RuntimeClass>): (pod: Pod) => Promise<string> {
  return async (pod) => {
    const name = pod.spec?.runtimeClassName;
    if (!name) return '';
    await classes.hasSynced();
    const rc = classes.get(name);
    if (!rc) throw new Error(`RuntimeClass "${name}" not found`);
    return rc.handler;
  };
}
