import { parseArgs } from 'node:util';
import { isAlive } from '../lab/index.ts';
import { supervisedStates, type SupervisedState } from '../supervisor/index.ts';
import { HOST } from './host-layout.ts';

/** "1h2m", "3m4s", "5s": how long since `since`. */
function age(since: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${s}s`;
}

/** One line a component: running (with pid and uptime), restarting, or stopped. */
export function statusLines(states: SupervisedState[], now: number, alive: (pid: number) => boolean): string[] {
  const rows = [['COMPONENT', 'STATUS', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT']];
  for (const s of states) {
    const supervised = alive(s.supervisorPid);
    const status = !supervised ? 'stopped' : s.pid !== null && alive(s.pid) ? 'running' : 'restarting';
    const lastExit = s.lastExit ? `${s.lastExit.signal ? `signal ${s.lastExit.signal}` : `code ${s.lastExit.code}`} ${age(s.lastExit.at, now)} ago` : '';
    rows.push([
      s.name,
      status,
      status === 'running' ? String(s.pid) : '',
      status === 'running' && s.startedAt ? age(s.startedAt, now) : '',
      String(s.restarts),
      lastExit,
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd(),
  );
}

/** skiff status: each component `skiff up` supervises, with its PID, uptime and restart count. */
export async function runStatus(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'state-dir': { type: 'string', default: HOST.run } } });
  const states = await supervisedStates(values['state-dir'] as string);
  if (states.length === 0) {
    process.stdout.write(`nothing is supervised here (no state in ${values['state-dir']}): start with skiff up\n`);
    return;
  }
  process.stdout.write(`${statusLines(states, Date.now(), isAlive).join('\n')}\n`);
}
