import { describe, expect, it } from 'vitest';
import { compareFigures, figuresOf, renderComparison } from './figures.ts';

const output = [
  'prose that is no JSON',
  JSON.stringify({ scenario: 'api-writes', backend: 'sqlite', clients: 16, writes: 5000, writesPerSec: 2500, p50Ms: 4.1, p99Ms: 20 }),
  JSON.stringify({ name: 'pod-startup/burst', p50_ms: 4000, latency: { p99_ms: 6000 }, node: 'v24', cpu: 'x' }),
  JSON.stringify({ name: 'pod-startup/burst', p50_ms: 4100 }),
].join('\n');

describe('bench figures', () => {
  it('names each case by its scenario, strings and parameters, and takes every other number (nested ones dotted) as a figure', () => {
    expect(figuresOf('api-writes', output)).toEqual({
      'api-writes: scenario=api-writes backend=sqlite clients=16': { writes: 5000, writesPerSec: 2500, p50Ms: 4.1, p99Ms: 20 },
      'api-writes: name=pod-startup/burst': { p50_ms: 4000, 'latency.p99_ms': 6000 },
      'api-writes: name=pod-startup/burst #2': { p50_ms: 4100 },
    });
  });

  it('calls a move past the noise worse or better by the figure: times and sizes up are worse, rates up better', () => {
    const key = 'k: name=x';
    const rows = compareFigures(
      { [key]: { p50_ms: 100, writesPerSec: 1000, rss_mib: 90, steady: 10 } },
      { [key]: { p50_ms: 130, writesPerSec: 1300, rss_mib: 80, steady: 10.5, fresh: 1 } },
    );
    expect(Object.fromEntries(rows.map((r) => [r.figure, r.verdict]))).toEqual({
      p50_ms: 'worse',
      writesPerSec: 'better',
      rss_mib: 'better',
      steady: 'same',
      fresh: 'new',
    });
    expect(renderComparison(rows)).toMatch(/^k: name=x\s+p50_ms\s+100\s+130\s+\+30\.0%\s+WORSE$/m);
  });
});
