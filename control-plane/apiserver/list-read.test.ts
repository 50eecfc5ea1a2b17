import { describe, expect, it } from 'vitest';
import type { ApiError } from '../../apimachinery/index.ts';
import { checkWatchOptions, listReadOf } from './list-read.ts';

const read = (query: string, limit?: number) => listReadOf(new URLSearchParams(query), limit);
const failure = (query: string, limit?: number) => {
  try {
    read(query, limit);
  } catch (err) {
    return err as ApiError;
  }
  throw new Error(`${query} was accepted`);
};

describe('listReadOf', () => {
  it('reads the newest state without a resourceVersion, and any state for "0"', () => {
    expect(read('')).toEqual({ match: 'Latest' });
    expect(read('continue=abc')).toEqual({ match: 'Latest' });
    expect(read('resourceVersion=0', 10)).toEqual({ match: 'NotOlderThan', revision: 0 });
    expect(read('resourceVersion=0&continue=abc')).toEqual({ match: 'NotOlderThan', revision: 0 });
  });

  it('gives a bare resourceVersion its legacy meaning: a minimum, or exact when paging', () => {
    expect(read('resourceVersion=42')).toEqual({ match: 'NotOlderThan', revision: 42 });
    expect(read('resourceVersion=42', 5)).toEqual({ match: 'Exact', revision: 42 });
    expect(read('resourceVersion=42&resourceVersionMatch=NotOlderThan', 5)).toEqual({ match: 'NotOlderThan', revision: 42 });
    expect(read('resourceVersion=42&resourceVersionMatch=Exact')).toEqual({ match: 'Exact', revision: 42 });
  });

  it('answers ListOptions as kube-apiserver validates them', () => {
    const causes = (q: string) => failure(q).details?.causes?.map((c) => c.message);
    expect(failure('resourceVersionMatch=Exact')).toMatchObject({ code: 422, details: { kind: 'ListOptions', group: 'meta.k8s.io' } });
    expect(causes('resourceVersionMatch=Exact')).toEqual(['Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided']);
    expect(causes('resourceVersion=1&resourceVersionMatch=Exact&continue=x')).toEqual([
      'Forbidden: resourceVersionMatch is forbidden when continue is provided',
    ]);
    expect(causes('resourceVersion=1&resourceVersionMatch=Newest')).toEqual(['Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""']);
    expect(causes('resourceVersion=0&resourceVersionMatch=Exact')).toEqual(['Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"']);
    expect(causes('sendInitialEvents=true')).toEqual(['Forbidden: sendInitialEvents is forbidden for list']);
    expect(failure('resourceVersion=abc')).toMatchObject({ code: 400, message: expect.stringContaining('Invalid value: "abc"') });
    expect(failure('resourceVersion=7&continue=abc')).toMatchObject({ code: 400, message: 'specifying resource version is not allowed when using continue' });
  });
});

describe('checkWatchOptions', () => {
  const causes = (query: string) => {
    try {
      checkWatchOptions(new URLSearchParams(query));
      return [];
    } catch (err) {
      return ((err as ApiError).details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
    }
  };

  it('takes resourceVersionMatch only for a streaming list, NotOlderThan only, with bookmarks', () => {
    expect(causes('resourceVersion=5')).toEqual([]);
    expect(causes('sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true')).toEqual([]);
    expect(causes('resourceVersionMatch=NotOlderThan')).toEqual([
      'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    ]);
    expect(causes('sendInitialEvents=true&resourceVersionMatch=Exact&allowWatchBookmarks=true')).toEqual([
      'resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      'resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"',
    ]);
    expect(causes('sendInitialEvents=true&resourceVersionMatch=NotOlderThan')).toEqual([
      'allowWatchBookmarks: Forbidden: sendInitialEvents requires allowWatchBookmarks to be true',
    ]);
  });
});
