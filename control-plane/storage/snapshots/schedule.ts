import { CronExpressionParser } from 'cron-parser';
import { sleep, type Logger } from '../../../apimachinery/index.ts';
import { pruneSnapshots, saveSnapshot } from './snapshots.ts';

const DAY_MS = 86_400_000;

export interface SnapshotSchedule {
  endpoint: string;
  dir: string;
  name: string;
  /** a cron expression (k3s's --etcd-snapshot-schedule-cron) */
  cron: string;
  /** how many of the scheduled snapshots to keep */
  retention: number;
  log: Logger;
}

/** Checks a schedule's cron expression before anything starts. */
export function checkSnapshotCron(cron: string): void {
  try {
    CronExpressionParser.parse(cron);
  } catch (err) {
    throw new Error(`invalid --snapshot-cron "${cron}": ${(err as Error).message}`);
  }
}

/** Takes a snapshot at each time the schedule names, keeping the newest `retention`, until the signal aborts. A failed one is logged; the next is taken on time. */
export async function runSnapshotSchedule(s: SnapshotSchedule, signal: AbortSignal): Promise<void> {
  const times = CronExpressionParser.parse(s.cron);
  while (!signal.aborted) {
    const next = times.next().toDate().getTime();
    // a day at most at a time: timers cannot wait longer than about 24 days
    while (!signal.aborted && Date.now() < next) await sleep(Math.min(next - Date.now(), DAY_MS), signal);
    if (signal.aborted) return;
    try {
      const taken = await saveSnapshot({ endpoint: s.endpoint, dir: s.dir, name: s.name });
      const pruned = await pruneSnapshots(s.dir, s.name, s.retention);
      s.log.info({ snapshot: taken.name, bytes: taken.size, pruned }, 'scheduled snapshot saved');
    } catch (err) {
      s.log.error({ err: (err as Error).message, dir: s.dir }, 'scheduled snapshot failed');
    }
  }
}
