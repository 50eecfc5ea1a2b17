import type { ServerResponse } from 'node:http';

/** True while more can be written to the response: it has not been ended and its connection is not gone. */
export function isOpen(res: ServerResponse): boolean {
  return !res.writableEnded && !res.destroyed;
}

/**
 * Writes to a long-running response only while it is open. A write after
 * end makes Node emit 'error' on the response, which kills the process
 * when nothing listens; timers and watch callbacks that outlive the
 * response go through here.
 */
export function writeIfOpen(res: ServerResponse, chunk: string): boolean {
  return isOpen(res) && res.write(chunk);
}

/** Resolves when the response can take more (drain) or is gone (close), leaving no listener behind. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Calls `onEnd` once, when the response closes or `signal` aborts, and
 * returns a function that removes both listeners (call it when the response
 * ends by itself, or listeners pile up on a long-lived signal).
 */
export function onResponseEnd(res: ServerResponse, signal: AbortSignal, onEnd: () => void): () => void {
  const fire = () => {
    remove();
    onEnd();
  };
  const remove = () => {
    res.off('close', fire);
    signal.removeEventListener('abort', fire);
  };
  res.on('close', fire);
  signal.addEventListener('abort', fire, { once: true });
  if (res.destroyed || signal.aborted) queueMicrotask(fire);
  return remove;
}
