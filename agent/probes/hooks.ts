import type { LifecycleHandler } from 'kubernetes-types/core/v1.js';
import { runProbe, type ProbeResult, type ProbeTarget } from './run-probe.ts';

/** How the kubelet names a hook in its events: Exec lifecycle hook ([sh -c …]), HTTP lifecycle hook (/path), … */
export function describeHook(handler: LifecycleHandler): string {
  if (handler.exec) return `Exec lifecycle hook ([${(handler.exec.command ?? []).join(' ')}])`;
  if (handler.httpGet) return `HTTP lifecycle hook (${handler.httpGet.path ?? '/'})`;
  if (handler.sleep) return `Sleep lifecycle hook (${handler.sleep.seconds})`;
  return 'lifecycle hook';
}

/**
 * Runs a postStart or preStop handler against a container: exec through the
 * runtime, an HTTP GET to the pod, or a sleep; `timeoutSeconds` bounds it (the
 * grace period, for preStop).
 */
export async function runHook(handler: LifecycleHandler, target: ProbeTarget, timeoutSeconds: number): Promise<ProbeResult> {
  if (handler.sleep) {
    await new Promise((r) => setTimeout(r, Math.min(handler.sleep?.seconds ?? 0, timeoutSeconds) * 1000));
    return { ok: true, output: '' };
  }
  return runProbe({ exec: handler.exec, httpGet: handler.httpGet, tcpSocket: handler.tcpSocket, timeoutSeconds }, target);
}
