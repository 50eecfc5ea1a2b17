/** An exponential back-off: the first wait, doubling up to the most. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** The wait before try number `attempt` after failures (1: the first retry): initialMs, doubling, at most maxMs. */
export function backoffDelay(attempt: number, backoff: Backoff): number {
  return Math.min(backoff.initialMs * 2 ** Math.max(attempt - 1, 0), backoff.maxMs);
}
