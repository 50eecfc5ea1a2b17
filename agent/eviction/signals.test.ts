import { describe, expect, it } from 'vitest';
import { byEvictionPriority, firstObservedAt, gracePeriodsMet, pressureConditions, thresholdsMet } from './signals.ts';
import type { Threshold } from './thresholds.ts';

const memory: Threshold = { signal: 'memory.available', value: { quantity: 100 }, gracePeriodMs: 0, hard: true, minReclaim: { quantity: 50 } };
const disk: Threshold = { signal: 'nodefs.available', value: { percentage: 0.1 }, gracePeriodMs: 30_000, hard: false };

describe('eviction signals', () => {
  it('meets a threshold below it, and holds it until the minimum reclaim is free too', () => {
    const obs = { 'memory.available': { available: 120, capacity: 1000 }, 'nodefs.available': { available: 90, capacity: 1000 } };
    expect(thresholdsMet([memory, disk], obs, false)).toEqual([disk]);
    expect(thresholdsMet([memory, disk], obs, true)).toEqual([memory, disk]);
    expect(thresholdsMet([memory], { 'memory.available': { available: 150, capacity: 1000 } }, true)).toEqual([]);
  });

  it('evicts for a soft threshold only after its grace period', () => {
    const first = firstObservedAt([disk], new Map(), 1_000);
    expect(gracePeriodsMet(first, 20_000)).toEqual([]);
    const later = firstObservedAt([disk], first, 31_000);
    expect(later.get(disk)).toBe(1_000);
    expect(gracePeriodsMet(later, 31_000)).toEqual([disk]);
  });

  it('keeps a pressure condition for the transition period after the signal recovers', () => {
    const on = pressureConditions([memory], new Map(), 1_000, 10_000);
    expect([...on.active]).toEqual(['MemoryPressure']);
    const held = pressureConditions([], on.lastObservedAt, 9_000, 10_000);
    expect([...held.active]).toEqual(['MemoryPressure']);
    const off = pressureConditions([], held.lastObservedAt, 11_000, 10_000);
    expect([...off.active]).toEqual([]);
    expect(off.lastObservedAt.size).toBe(0);
    expect([...pressureConditions([disk], new Map(), 5, 0).active]).toEqual(['DiskPressure']);
  });

  it('reclaims memory before anything else', () => {
    expect([disk, memory].sort(byEvictionPriority)).toEqual([memory, disk]);
  });
});
