import { spawn } from 'node:child_process';
import { open, readFile, rm, writeFile } from 'node:fs/promises';

/** Starts a long-running process detached from us, output appended to `logFile`, pid in `pidFile`. */
export async function startDaemon(argv: string[], opts: { logFile: string; pidFile: string; env?: NodeJS.ProcessEnv }): Promise<number> {
  const out = await open(opts.logFile, 'a');
  const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ['ignore', out.fd, out.fd], env: opts.env ?? process.env });
  await out.close();
  if (!child.pid) throw new Error(`could not start ${argv[0]}`);
  child.unref();
  await writeFile(opts.pidFile, `${child.pid}\n`);
  return child.pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function readPid(pidFile: string): Promise<number | null> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return pid > 0 && isAlive(pid) ? pid : null;
}

/** SIGTERM (or `first`), then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 10_000, first: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  try {
    process.kill(pid, first);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopDaemon(pidFile: string, graceMs?: number): Promise<boolean> {
  const pid = await readPid(pidFile);
  await rm(pidFile, { force: true });
  if (pid === null) return false;
  await stopPid(pid, graceMs);
  return true;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr}` : ''}`);
}
