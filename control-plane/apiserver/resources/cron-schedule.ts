import { CronExpressionParser } from 'cron-parser';

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/**
 * Why a CronJob schedule is not one Kubernetes accepts (standard 5-field
 * cron or a descriptor, no TZ prefix), or null when it is fine.
 */
export function cronScheduleError(schedule: string): string | null {
  const s = schedule.trim();
  if (/^(CRON_)?TZ=/.test(s)) return 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead';
  if (s.startsWith('@')) {
    if (DESCRIPTORS.has(s) || /^@every \d+(\.\d+)?(ns|us|ms|s|m|h)+/.test(s)) return null;
    return `unrecognized descriptor: ${s}`;
  }
  const fields = s.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: ${s}`;
  try {
    CronExpressionParser.parse(s, { tz: 'UTC' });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Is this an IANA time zone name the runtime knows? */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return !name.includes(' ');
  } catch {
    return false;
  }
}
