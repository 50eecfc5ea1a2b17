// Timestamps as the Kubernetes API writes them.

/** metav1.Time: RFC 3339 in UTC, whole seconds ("2026-11-21T10:00:00Z"). */
export function rfc3339(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with microseconds (Lease renewTime). */
export function microTime(d: Date = new Date()): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

/** Waits `ms`, or less when the signal aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => {
      signal.removeEventListener('abort', done);
      resolve();
    }, ms);
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Waits until `arm`'s wake function is called or the signal aborts, and
 * leaves no listener on the signal either way (loops that wait on one
 * long-lived signal would otherwise add a listener per turn).
 */
export function waitForWake(signal: AbortSignal, arm: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    let woken = false;
    const wake = () => {
      if (woken) return;
      woken = true;
      signal.removeEventListener('abort', wake);
      resolve();
    };
    signal.addEventListener('abort', wake, { once: true });
    arm(wake);
  });
}

/** Waits for `work`, but no longer than `ms`; the timer does not outlive the wait. */
export async function waitAtMost(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
