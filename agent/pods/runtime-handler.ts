import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import { waitAtMost, type Informer } from '../../apimachinery/index.ts';

/** How long a pod naming a RuntimeClass waits for the classes' first list (a server that does not serve them never gives one). */
const SYNC_WAIT_MS = 10_000;

/**
 * The CRI handler a pod's sandbox runs under, as the kubelet's RuntimeClass
 * manager finds it: the handler of the RuntimeClass the pod names ('' for
 * none: the runtime's default). A class the cluster does not hold fails the
 * sandbox with the kubelet's words (the sync backs off and tries again).
 */
export function runtimeHandlers(classes: Informer<RuntimeClass>, syncWaitMs = SYNC_WAIT_MS): (pod: Pod) => Promise<string> {
  return async (pod) => {
    const name = pod.spec?.runtimeClassName;
    if (!name) return '';
    await waitAtMost(syncWaitMs, classes.hasSynced());
    const rc = classes.get(name);
    if (!rc) throw new Error(`RuntimeClass "${name}" not found`);
    return rc.handler;
  };
}
