import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { serveHealth, type HealthCheck } from './health.ts';

async function ask(path: string, checks: HealthCheck[], query = ''): Promise<{ code: number; body: string }> {
  let code = 0;
  let body = '';
  const res = {
    writeHead: (c: number) => {
      code = c;
      return res;
    },
    end: (b: string) => void (body = b),
  } as unknown as ServerResponse;
  await serveHealth(path, new URLSearchParams(query), checks, res);
  return { code, body };
}

describe('health endpoints', () => {
  const up: HealthCheck[] = [
    { name: 'ping', check: async () => {} },
    { name: 'etcd', check: async () => {} },
  ];
  const storageDown: HealthCheck[] = [
    { name: 'ping', check: async () => {} },
    { name: 'etcd', check: async () => Promise.reject(new Error('connection refused')) },
  ];

  it('answer ok while storage answers, and 500 naming the failed check when it does not', async () => {
    expect(await ask('/readyz', up)).toEqual({ code: 200, body: 'ok' });
    expect(await ask('/readyz', up, 'verbose')).toEqual({ code: 200, body: '[+]ping ok\n[+]etcd ok\nreadyz check passed\n' });
    expect(await ask('/readyz', storageDown)).toEqual({ code: 500, body: '[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n' });
    expect(await ask('/readyz/etcd', storageDown)).toEqual({ code: 500, body: 'internal server error: connection refused\n' });
    expect(await ask('/readyz/etcd', up)).toEqual({ code: 200, body: 'ok' });
    expect(await ask('/readyz', storageDown, 'exclude=etcd')).toEqual({ code: 200, body: 'ok' });
    expect((await ask('/readyz/nothing', up)).code).toBe(404);
  });

  it('fail a check that does not answer in time', async () => {
    const hung: HealthCheck[] = [{ name: 'etcd', check: () => new Promise(() => {}) }];
    expect(await ask('/livez', hung)).toEqual({ code: 500, body: '[-]etcd failed: reason withheld\nlivez check failed\n' });
  }, 10_000);
});
