import { sleep } from '../apimachinery/index.ts';

/** Runs `fn` now and then every `ms` until the signal aborts; a failure goes to `onError` and the loop goes on. */
export async function every(ms: number, signal: AbortSignal, fn: () => Promise<void>, onError: (err: Error) => void): Promise<void> {
  while (!signal.aborted) {
    try {
      await fn();
    } catch (err) {
      onError(err as Error);
    }
    await sleep(ms, signal);
  }
}
