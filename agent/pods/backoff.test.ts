import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';

describe('per-key back-off', () => {
  it('doubles from the first delay to the cap, and forgets a key left alone for twice the cap', () => {
    const b = new Backoff(10_000, 40_000);
    expect(b.delay('web', 0)).toBe(0);
    expect([1, 2, 3, 4].map((t) => b.next('web', t))).toEqual([10_000, 20_000, 40_000, 40_000]);
    expect(b.remaining('web', 10_004)).toBe(30_000);
    expect(b.inBackoffSince('web', 4, 10_004)).toBe(true);
    expect(b.delay('web', 4 + 80_001)).toBe(0);
    expect(b.next('web', 4 + 80_001)).toBe(10_000);
    expect(b.delay('other', 0)).toBe(0);
  });

  it("resets a key, and forgets a pod's keys by prefix", () => {
    const b = new Backoff();
    b.next('uid-1/web', 0);
    b.next('uid-1/side', 0);
    b.next('uid-2/web', 0);
    b.reset('uid-2/web');
    b.forgetPrefix('uid-1/');
    expect(['uid-1/web', 'uid-1/side', 'uid-2/web'].map((k) => b.delay(k, 1))).toEqual([0, 0, 0]);
  });
});
