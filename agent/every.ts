import { sleep } from '../apimachinery/index.ts';

/**
 * Runs `fn` now and then every `ms` until the signal aborts. After a failure
 * it tries again sooner, `retryFromMs` doubling up to `ms` (as the kubelet
 * retries a lease it could not renew), so a server back from an outage hears
 * from the node within a moment rather than a whole period later; the first
 * failure of a run of them goes to `onError`.
 */
export async function every(ms: number, signal: AbortSignal, fn: () => Promise<void>, onError: (err: Error) => void, retryFromMs = 200): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await fn();
      failures = 0;
    } catch (err) {
      if (failures++ === 0) onError(err as Error);
    }
    await sleep(failures ? Math.min(retryFromMs * 2 ** (failures - 1), ms) : ms, signal);
  }
}
