import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('starts at the first wait, doubles, and stops at the most', () => {
    const b = { initialMs: 1000, maxMs: 10_000 };
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, b))).toEqual([1000, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});
