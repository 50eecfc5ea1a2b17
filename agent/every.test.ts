import { describe, expect, it } from 'vitest';
import { every } from './every.ts';

describe('every', () => {
  it('tries again soon after a failure, sooner than its period, and tells of the first failure of a run only', async () => {
    const stop = new AbortController();
    let calls = 0;
    const errors: string[] = [];
    const fn = async () => {
      calls++;
      if (calls <= 3) throw new Error(`down ${calls}`);
    };
    const done = every(60_000, stop.signal, fn, (err) => errors.push(err.message), 5);
    // 5 + 10 + 20 ms of retries, then the fourth call succeeds and the period (a minute) begins
    await expect.poll(() => calls, { timeout: 2_000 }).toBe(4);
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(4);
    expect(errors).toEqual(['down 1']);
    stop.abort();
    await done;
  });
});
