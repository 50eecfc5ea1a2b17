import { describe, expect, it } from 'vitest';
import { parseThresholds, thresholdQuantity } from './thresholds.ts';

const none = { evictionHard: {}, evictionSoft: {}, evictionSoftGracePeriod: {}, evictionMinimumReclaim: {} };

describe('eviction thresholds', () => {
  it('reads hard thresholds as quantities or percentages, with minimum reclaim', () => {
    const [mem, fs] = parseThresholds({
      ...none,
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10%' },
      evictionMinimumReclaim: { 'memory.available': '50Mi' },
    });
    expect(mem).toEqual({
      signal: 'memory.available',
      value: { quantity: 100 * 2 ** 20 },
      gracePeriodMs: 0,
      hard: true,
      minReclaim: { quantity: 50 * 2 ** 20 },
    });
    expect(fs?.value).toEqual({ percentage: 0.1 });
    expect(thresholdQuantity(fs!.value, 1000)).toBe(100);
  });

  it('needs a grace period for every soft threshold', () => {
    expect(() => parseThresholds({ ...none, evictionSoft: { 'memory.available': '1Gi' } })).toThrow(
      'grace period must be specified for the soft eviction threshold memory.available',
    );
    const [soft] = parseThresholds({ ...none, evictionSoft: { 'memory.available': '1Gi' }, evictionSoftGracePeriod: { 'memory.available': '1m30s' } });
    expect(soft).toMatchObject({ hard: false, gracePeriodMs: 90_000 });
  });

  it('treats 0% as no threshold and refuses what the kubelet refuses', () => {
    expect(parseThresholds({ ...none, evictionHard: { 'nodefs.available': '0%' } })).toEqual([]);
    expect(() => parseThresholds({ ...none, evictionHard: { 'memory.free': '1Gi' } })).toThrow('unsupported eviction signal memory.free');
    expect(() => parseThresholds({ ...none, evictionHard: { 'nodefs.available': '120%' } })).toThrow(/must not exceed 100%/);
    expect(() => parseThresholds({ ...none, evictionHard: { 'memory.available': 'lots' } })).toThrow(/neither a quantity nor a percentage/);
    expect(() => parseThresholds({ ...none, evictionHard: { 'memory.available': '-1Mi' } })).toThrow(/must be positive/);
  });
});
