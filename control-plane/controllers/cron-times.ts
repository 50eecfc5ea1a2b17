import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from '../../apimachinery/index.ts';

const EVERY = /^@every (\S+)$/;

/**
 * The schedule's fire times after `after` up to and including `until`
 * (at most `limit` of them, the latest kept), and the first one after `until`.
 */
export function fireTimes(
  schedule: string,
  timeZone: string | undefined,
  after: Date,
  until: Date,
  limit = 100,
): { missed: Date[]; count: number; next: Date } {
  const s = schedule.trim() === '@midnight' ? '@daily' : schedule.trim();
  const every = EVERY.exec(s);
  const step = every ? parseDuration(every[1] as string) : 0;
  if (every && step <= 0) throw new Error(`@every needs a positive interval: ${schedule}`);
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
