import { describe, expect, it } from 'vitest';
import { ApiError } from './status.ts';
import { queryBool, queryInt } from './query-params.ts';
import { unescapePathSegment } from './path-segment.ts';

describe('query parameters as the parameter codec reads them', () => {
  it('takes anything but absent, 0 and false (any case) as true', () => {
    for (const v of ['true', 'True', '1', 'yes', '']) expect(queryBool(v)).toBe(true);
    for (const v of [null, '0', 'false', 'False', 'FALSE']) expect(queryBool(v)).toBe(false);
  });

  it('reads integers, leaves absent and empty ones out, and refuses the rest with 400', () => {
    const q = new URLSearchParams('a=30&b=&c=-5&d=soon&e=1.5');
    expect([queryInt(q, 'a'), queryInt(q, 'b'), queryInt(q, 'c'), queryInt(q, 'missing')]).toEqual([30, undefined, -5, undefined]);
    for (const name of ['d', 'e']) {
      expect(() => queryInt(q, name)).toThrow(ApiError);
      expect(() => queryInt(q, name)).toThrow(/strconv\.ParseInt: parsing ".*": invalid syntax/);
    }
  });
});

describe('path segments as url.PathUnescape reads them', () => {
  it('decodes escapes, turns bytes that are no UTF-8 into U+FFFD, and refuses malformed escapes with 400', () => {
    expect(unescapePathSegment('caf%C3%A9')).toBe('café');
    expect(unescapePathSegment('plain')).toBe('plain');
    expect(unescapePathSegment('%ff')).toBe('\ufffd');
    for (const bad of ['%ZZ', 'a%', '%4']) {
      expect(() => unescapePathSegment(bad)).toThrow(ApiError);
      expect(() => unescapePathSegment(bad)).toThrow(/invalid URL escape/);
    }
  });
});
