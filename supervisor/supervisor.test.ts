import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../lab/index.ts';
import { supervise, supervisedStates } from './supervisor.ts';

describe('supervise', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('restarts a process that crashes, counts it, and stops it on abort', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sk-superv-'));
    const runs = join(dir, 'runs');
    // crashes (with a stack) on its first two runs, then stays up until SIGTERM, marking 'r' once it listens for it
    const script = `const fs=require('fs');fs.appendFileSync(${JSON.stringify(runs)},'x');if(fs.readFileSync(${JSON.stringify(runs)},'utf8').length<3)throw new Error('boom');process.on('SIGTERM',()=>{fs.appendFileSync(${JSON.stringify(runs)},'T');process.exit(0)});fs.appendFileSync(${JSON.stringify(runs)},'r');setInterval(()=>{},1000);`;
    const stop = new AbortController();
    const done = supervise({
      name: 'crashy',
      argv: [process.execPath, '-e', script],
      stateDir: dir,
      signal: stop.signal,
      backoff: { initialMs: 50, maxMs: 200, resetAfterMs: 60_000 },
    });
    let state = (await supervisedStates(dir))[0];
    const listening = async () => (await readFile(runs, 'utf8').catch(() => '')) === 'xxxr';
    for (let i = 0; i < 200 && !(state?.restarts === 2 && state.pid !== null && (await listening())); i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = (await supervisedStates(dir))[0];
    }
    expect(state).toMatchObject({ name: 'crashy', restarts: 2, supervisorPid: process.pid, lastExit: { code: 1 } });
    const pid = state?.pid as number;
    expect(isAlive(pid)).toBe(true);

    stop.abort();
    await done;
    expect(isAlive(pid)).toBe(false);
    expect(await readFile(runs, 'utf8')).toBe('xxxrT');
    expect((await supervisedStates(dir))[0]).toMatchObject({ pid: null, restarts: 2 });
  });
});
