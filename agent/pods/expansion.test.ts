import { describe, expect, it } from 'vitest';
import { expandReferences } from './expansion.ts';

const vars: Record<string, string> = { FOO: 'foo-value', BAR: 'bar-value', EMPTY: '' };
const expand = (s: string) => expandReferences(s, (n) => vars[n]);

describe('variable references', () => {
  it('replaces defined names, keeps unknown ones and anything not a reference, and reads $$ as $', () => {
    expect(expand('$(FOO);;$(BAR)')).toBe('foo-value;;bar-value');
    expect(expand('$(NOPE) and $(EMPTY)x')).toBe('$(NOPE) and x');
    expect(expand('$$(FOO) costs $5 $')).toBe('$(FOO) costs $5 $');
    expect(expand('a $(FOO')).toBe('a $(FOO');
    expect(expand('$(FOO)$(FOO)')).toBe('foo-valuefoo-value');
  });
});
