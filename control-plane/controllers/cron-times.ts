import { CronExpressionParser } from 'cron-parser';

const EVERY = /^@every ((?:\d+(?:\.\d+)?(?:ns|us|ms|s|m|h))+)$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("1h30m", "90s") in milliseconds. */
function durationMs(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)) ms += Number(n) * (UNIT_MS[unit as string] ?? 0);
  return ms;
}

/**
 * The schedule's fire times after `after` up to and including `until`
 * (at most `limit` of them, the latest kept), and the first one after `until`.
 */
export function fireTimes(schedule: string, timeZone: string | undefined, after: Date, until: Date, limit = 100): { missed: Date[]; count: number; next: Date } {
  const s = schedule.trim() === '@midnight' ? '@daily' : schedule.trim();
  const every = EVERY.exec(s);
  const step = every ? durationMs(every[1] as string) : 0;
  const iterator = every ? undefined : CronExpressionParser.parse(s, { currentDate: after, tz: timeZone });
  const nextAfter = (d: Date): Date => (iterator ? iterator.next().toDate() : new Date(d.getTime() + step));
  const missed: Date[] = [];
  let count = 0;
  let t = nextAfter(after);
  while (t <= until) {
    count++;
    missed.push(t);
    if (missed.length > limit) missed.shift();
    t = nextAfter(t);
  }
  return { missed, count, next: t };
}
