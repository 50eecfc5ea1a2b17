import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { PodMemory, PodSyncer } from '../../agent/pods/index.ts';

/** Syncs a pod until `done(status)` holds, as its pod worker would on runtime changes. */
export async function syncUntil(syncer: PodSyncer, pod: Pod, memory: PodMemory, done: (s: PodStatus) => boolean, timeoutMs = 20_000): Promise<PodStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: PodStatus | undefined;
  while (Date.now() < deadline) {
    last = (await syncer.sync(pod, memory)).status;
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not reached; last status: ${JSON.stringify(last)}`);
}
