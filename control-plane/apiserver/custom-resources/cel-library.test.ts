import { describe, expect, it } from 'vitest';
import { celEnvironment } from './cel-library.ts';

const run = (expression: string, self?: unknown) => celEnvironment.parse(expression)({ self });

describe('the CEL environment of validation rules', () => {
  it('has the Kubernetes list library', () => {
    expect(run('self.isSorted()', [1n, 2n, 2n, 5n])).toBe(true);
    expect(run('self.isSorted()', ['b', 'a'])).toBe(false);
    expect(run('self.sum()', [1n, 2n, 3n])).toBe(6n);
    expect(run('self.map(p, p.size).sum() <= 10', [{ size: 4n }, { size: 5n }])).toBe(true);
    expect([run('self.min()', [3n, 1n, 2n]), run('self.max()', ['a', 'c', 'b'])]).toEqual([1n, 'c']);
    expect(() => run('self.min()', [])).toThrow(/min called on empty list/);
    expect([run('self.indexOf(2)', [1n, 2n, 2n]), run('self.lastIndexOf(2)', [1n, 2n, 2n]), run('self.indexOf(7)', [1n])]).toEqual([1n, 2n, -1n]);
    expect(run('self.indexOf({"a": 1})', [{ a: 0n }, { a: 1n }])).toBe(1n);
  });

  it('has the regex library and keeps the standard string extensions', () => {
    expect(run('self.find("[0-9]+")', 'abc 123 def 456')).toBe('123');
    expect(run('self.find("x")', 'abc')).toBe('');
    expect(run('self.findAll("[0-9]+")', 'a1 b22 c333')).toEqual(['1', '22', '333']);
    expect(run('self.findAll("[0-9]+", 2)', 'a1 b22 c333')).toEqual(['1', '22']);
    expect(run('self.lowerAscii().split("-")', 'A-B')).toEqual(['a', 'b']);
  });

  it('has the Kubernetes quantity library', () => {
    expect(run('quantity(self.limits).isGreaterThan(quantity(self.requests))', { limits: '1Gi', requests: '512Mi' })).toBe(true);
    expect(run('quantity("500m").isLessThan(quantity("1"))')).toBe(true);
    expect(run('quantity("1k").add(24).asInteger()')).toBe(1024n);
    expect(run('quantity("2").sub(quantity("3")).sign()')).toBe(-1n);
    expect(run('quantity("1.5").isInteger()')).toBe(false);
    expect(run('quantity("1Mi").compareTo(quantity("1M"))')).toBe(1n);
    expect([run('isQuantity("10Gi")'), run('isQuantity("ten")')]).toEqual([true, false]);
    expect(() => run('quantity("ten")')).toThrow(/quantities must match/);
  });

  it('has the Kubernetes IP and CIDR library', () => {
    expect([run('isIP("10.0.0.1")'), run('isIP("fd00::1")'), run('isIP("10.0.0.256")'), run('isCIDR("10.0.0.0/8")'), run('isCIDR("10.0.0.0/33")')]).toEqual([
      true,
      true,
      false,
      true,
      false,
    ]);
    expect(run('cidr(self.range).containsIP(self.address)', { range: '10.244.0.0/16', address: '10.244.3.7' })).toBe(true);
    expect(run('cidr("10.244.0.0/16").containsIP(ip("10.245.0.1"))')).toBe(false);
    expect(run('cidr("fd00::/8").containsCIDR("fd12::/64")')).toBe(true);
    expect(run('cidr("10.0.0.0/24").containsCIDR("10.0.0.0/16")')).toBe(false);
    expect([run('ip("::1").family()'), run('cidr("10.1.0.0/16").prefixLength()')]).toEqual([6n, 16n]);
    expect([run('ip("127.0.0.1").isLoopback()'), run('ip("::").isUnspecified()'), run('ip("10.0.0.1").isLoopback()')]).toEqual([true, true, false]);
    expect(() => run('ip("nope")')).toThrow(/parse error/);
  });
});
