import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['500ms', 500],
    ['2h', 7_200_000],
    ['1m30s', 90_000],
    ['0', 0],
  ])('%s is %d ms', (s, ms) => expect(parseDuration(s)).toBe(ms));

  it('refuses a number without a unit', () => expect(() => parseDuration('10')).toThrow(/unit/));
});
