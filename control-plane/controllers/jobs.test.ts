import { describe, expect, it } from 'vitest';
import { fireTimes } from './cron-times.ts';
import { indexRanges, podFailureVerdict } from './job.ts';

const at = (iso: string) => new Date(iso);

describe('CronJob fire times', () => {
  it('lists the times missed since the last run and the next one', () => {
    const t = fireTimes('*/5 * * * *', 'UTC', at('2026-01-01T00:02:00Z'), at('2026-01-01T00:16:00Z'));
    expect(t.missed.map((d) => d.toISOString())).toEqual(['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z', '2026-01-01T00:15:00.000Z']);
    expect(t.next.toISOString()).toBe('2026-01-01T00:20:00.000Z');
  });

  it('honours the time zone', () => {
    // 03:00 in Tokyo is 18:00 UTC the day before
    const t = fireTimes('0 3 * * *', 'Asia/Tokyo', at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'));
    expect(t.missed.map((d) => d.toISOString())).toEqual(['2026-01-01T18:00:00.000Z']);
  });

  it('keeps only the latest of many missed times but counts them all', () => {
    const t = fireTimes('* * * * *', 'UTC', at('2026-01-01T00:00:00Z'), at('2026-01-01T03:00:00Z'), 100);
    expect(t.count).toBe(180);
    expect(t.missed).toHaveLength(100);
    expect(t.missed.at(-1)?.toISOString()).toBe('2026-01-01T03:00:00.000Z');
  });

  it('understands @every and @midnight', () => {
    expect(fireTimes('@every 90s', undefined, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:03:00Z')).missed.map((d) => d.toISOString())).toEqual([
      '2026-01-01T00:01:30.000Z',
      '2026-01-01T00:03:00.000Z',
    ]);
    expect(fireTimes('@midnight', 'UTC', at('2026-01-01T12:00:00Z'), at('2026-01-02T12:00:00Z')).missed.map((d) => d.toISOString())).toEqual([
      '2026-01-02T00:00:00.000Z',
    ]);
  });
});

describe('completed indexes', () => {
  it('folds runs into ranges', () => {
    expect(indexRanges([5, 0, 1, 2, 7, 8])).toBe('0-2,5,7-8');
    expect(indexRanges([])).toBe('');
    expect(indexRanges([3])).toBe('3');
  });
});

describe('pod failure policy', () => {
  const failed = (exitCode: number, conditions: { type: string; status: string }[] = []) => ({
    metadata: { name: 'p', namespace: 'ns' },
    status: {
      phase: 'Failed',
      conditions,
      containerStatuses: [{ name: 'main', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode } } }],
    },
  });
  const rules = [
    { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1] } },
  ];

  it('finds the first matching rule, by exit code or pod condition', () => {
    expect(podFailureVerdict(rules, failed(42))).toEqual({
      action: 'FailJob',
      message: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0',
    });
    expect(podFailureVerdict(rules, failed(1, [{ type: 'DisruptionTarget', status: 'True' }]))?.action).toBe('Ignore');
    expect(podFailureVerdict(rules, failed(7))?.action).toBe('Count');
    expect(podFailureVerdict(rules, failed(1))).toBeUndefined();
  });
});
