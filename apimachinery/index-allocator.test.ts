import { describe, expect, it } from 'vitest';
import { IndexAllocator } from './index-allocator.ts';

describe('IndexAllocator', () => {
  it('hands out free slots in turn from where it left off, skipping taken ones, until none is left', () => {
    const a = new IndexAllocator(4, { firstTry: 2 });
    a.occupy(3);
    expect([a.allocate(), a.allocate(), a.allocate(), a.allocate()]).toEqual([2, 0, 1, null]);
    a.release(0);
    expect(a.has(0)).toBe(false);
    expect(a.allocate()).toBe(0);
    a.occupy(9);
    expect(a.has(9)).toBe(false);
  });
});
