import { spawn } from 'node:child_process';
import { readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// The supervisor runs beside each component `skiff up` starts, so it imports
// nothing but Node's own modules: apimachinery's face alone would make it an
// 84 MiB process where this one is 53 (RSS, measured under skiff up).

/** What a supervisor writes about its process after every change (`skiff status` reads it). */
export interface SupervisedState {
  name: string;
  supervisorPid: number;
  /** the running process, or null between a crash and its restart */
  pid: number | null;
  /** when the running process started (RFC 3339) */
  startedAt: string | null;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
}

/** The waits between restarts: the first, doubling up to the most. */
export interface RestartBackoff {
  initialMs: number;
  maxMs: number;
  /** a process that ran this long without dying starts the back-off afresh */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialMs: 1000, maxMs: 60_000, resetAfterMs: 60_000 };

const STATE_SUFFIX = '.state.json';

/**
 * Runs `argv` until `signal` aborts, starting it again with back-off each
 * time it exits (a crash, or a clean exit nobody asked for). Its output goes
 * where ours goes; each exit is logged there with its code or signal, below
 * the stack the process printed. The state file in `stateDir` says how it
 * is doing. On abort the process gets SIGTERM, and SIGKILL after `stopGraceMs`.
 */
export async function supervise(opts: {
  name: string;
  argv: string[];
  stateDir: string;
  signal: AbortSignal;
  backoff?: RestartBackoff;
  stopGraceMs?: number;
}): Promise<void> {
  const backoff = opts.backoff ?? DEFAULT_RESTART_BACKOFF;
  const state: SupervisedState = { name: opts.name, supervisorPid: process.pid, pid: null, startedAt: null, restarts: 0 };
  const file = join(opts.stateDir, `${opts.name}${STATE_SUFFIX}`);
  // renamed over the old one: `skiff status` never reads a half-written state
  const save = async () => {
    await writeFile(`${file}.tmp`, `${JSON.stringify(state)}\n`);
    await rename(`${file}.tmp`, file);
  };
  const say = (msg: string) => process.stdout.write(`${new Date().toISOString()} skiff supervisor: ${opts.name} ${msg}\n`);
  let failures = 0;
  while (!opts.signal.aborted) {
    const child = spawn(opts.argv[0] as string, opts.argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    const started = Date.now();
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err) => {
        say(`could not start: ${err.message}`);
        resolve({ code: null, signal: null });
      });
    });
    Object.assign(state, { pid: child.pid ?? null, startedAt: new Date(started).toISOString() });
    await save();
    const stop = () => {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), opts.stopGraceMs ?? 9000);
      void exited.then(() => clearTimeout(kill));
    };
    opts.signal.addEventListener('abort', stop, { once: true });
    const exit = await exited;
    opts.signal.removeEventListener('abort', stop);
    state.lastExit = { ...exit, at: new Date().toISOString() };
    state.pid = null;
    state.startedAt = null;
    if (opts.signal.aborted) break;
    failures = Date.now() - started >= backoff.resetAfterMs ? 1 : failures + 1;
    state.restarts++;
    const delay = Math.min(backoff.initialMs * 2 ** (failures - 1), backoff.maxMs);
    say(
      `exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}) after ${Math.round((Date.now() - started) / 1000)} s; restart ${state.restarts} in ${delay} ms`,
    );
    await save();
    await sleep(delay, undefined, { signal: opts.signal }).catch(() => undefined);
  }
  await save();
}

/** The states of every supervised process whose files are in `stateDir`, by name. */
export async function supervisedStates(stateDir: string): Promise<SupervisedState[]> {
  const files = (await readdir(stateDir).catch(() => [] as string[])).filter((f) => f.endsWith(STATE_SUFFIX)).sort();
  const states: SupervisedState[] = [];
  for (const f of files) {
    try {
      states.push(JSON.parse(await readFile(join(stateDir, f), 'utf8')) as SupervisedState);
    } catch {
      // written as we read (replaceFile renames, so only a file removed meanwhile): skipped
    }
  }
  return states;
}
