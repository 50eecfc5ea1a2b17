import { describe, expect, it } from 'vitest';
import { matchesFields, parseFieldSelector } from './fields.ts';
import { matchesLabels, parseLabelSelector, SelectorParseError } from './labels.ts';
import { milliCpu, parseQuantity } from './quantity.ts';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', 'example.com/x': 'y' };
  it.each([
    ['app=web', true],
    ['app==web,tier=front', true],
    ['app!=web', false],
    ['app in (web, api)', true],
    ['tier notin (front)', false],
    ['example.com/x', true],
    ['!missing', true],
    ['missing', false],
    ['', true],
  ])('%s matches: %s', (sel, want) => expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(want));

  it('rejects invalid keys and values', () => {
    expect(() => parseLabelSelector('a b=c')).toThrow(SelectorParseError);
    expect(() => parseLabelSelector('app=we b')).toThrow(SelectorParseError);
  });
});

describe('field selectors', () => {
  const pod = { metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
  it.each([
    ['spec.nodeName=n1', true],
    ['spec.nodeName==n1,status.phase!=Failed', true],
    ['spec.nodeName=', false],
    ['metadata.name=other', false],
    ['spec.missing=', true],
  ])('%s matches: %s', (sel, want) => expect(matchesFields(parseFieldSelector(sel), pod)).toBe(want));
});

describe('quantities', () => {
  it.each([
    ['100m', 0.1],
    ['2', 2],
    ['64Mi', 64 * 2 ** 20],
    ['1G', 1e9],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['2e3', 2000],
  ])('%s is %d', (q, n) => expect(parseQuantity(q)).toBe(n));
  it('rounds cpu up to whole millicores and rejects nonsense', () => {
    expect(milliCpu('0.0001')).toBe(1);
    expect(milliCpu('250m')).toBe(250);
    expect(() => parseQuantity('ten')).toThrow();
  });
});
