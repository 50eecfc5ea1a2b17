import { describe, expect, it } from 'vitest';
import { statusLines } from './status.ts';

describe('skiff status', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');

  it('shows each component running with its pid, uptime, restarts and last exit', () => {
    const lines = statusLines(
      [
        {
          name: 'agent',
          supervisorPid: 10,
          pid: 11,
          startedAt: '2026-01-01T00:58:55Z',
          restarts: 2,
          lastExit: { code: 1, signal: null, at: '2026-01-01T00:58:54Z' },
        },
        { name: 'server', supervisorPid: 20, pid: 21, startedAt: '2025-12-31T23:00:00Z', restarts: 0 },
      ],
      now,
      () => true,
    );
    expect(lines).toEqual([
      'COMPONENT  STATUS   PID  UPTIME  RESTARTS  LAST EXIT',
      'agent      running  11   1m5s    2         code 1 1m6s ago',
      'server     running  21   2h0m    0',
    ]);
  });

  it('shows a component between crash and restart as restarting, one whose supervisor is gone as stopped', () => {
    const lines = statusLines(
      [
        { name: 'agent', supervisorPid: 10, pid: null, startedAt: null, restarts: 3, lastExit: { code: null, signal: 'SIGSEGV', at: '2026-01-01T00:59:59Z' } },
        { name: 'server', supervisorPid: 20, pid: 21, startedAt: null, restarts: 0 },
      ],
      now,
      (pid) => pid === 10,
    );
    expect(lines.slice(1)).toEqual(['agent      restarting               3         signal SIGSEGV 1s ago', 'server     stopped                  0']);
  });
});
