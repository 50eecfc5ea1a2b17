import type { CriClient } from '../cri/index.ts';
import type { RuntimeHealth } from './node-status.ts';

/**
 * How the node's Ready condition is judged, as the kubelet's runtime and
 * network checks: the runtime answers Status with RuntimeReady, and the CNI
 * config in `cniConfDir` parses.
 */
export function runtimeHealth(deps: { status: CriClient['status']; loadNetwork: () => Promise<unknown> }): () => Promise<RuntimeHealth> {
  return async () => {
    const status = await deps
      .status()
      .catch((err: Error) => ({ status: { conditions: [{ type: 'RuntimeReady', status: false, reason: 'RuntimeDown', message: err.message }] } }));
    const runtimeCond = status.status?.conditions.find((c) => c.type === 'RuntimeReady');
    let networkMessage = '';
    try {
      await deps.loadNetwork();
    } catch (err) {
      networkMessage = `container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: ${(err as Error).message}`;
    }
    const runtimeReady = runtimeCond?.status === true;
    return {
      runtimeReady,
      networkReady: networkMessage === '',
      message: !runtimeReady ? `container runtime is down: ${runtimeCond?.message ?? ''}` : networkMessage,
    };
  };
}
