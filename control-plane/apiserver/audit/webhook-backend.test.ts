import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AuditWebhookBackend } from './webhook-backend.ts';

describe('audit webhook backend', () => {
  it('drops what a full buffer cannot hold, says so once and how many, and gives up on a webhook that never answers when closed', async () => {
    const lines: { msg: string; dropped?: number; events?: number }[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    // nothing listens on port 1: every try is refused
    const backend = new AuditWebhookBackend({
      target: { server: 'https://127.0.0.1:1/audit', ca: '' },
      batchMaxSize: 100,
      batchMaxWaitMs: 5,
      bufferSize: 2,
      initialBackoffMs: 60_000,
      log,
    });
    for (let i = 0; i < 5; i++) backend.write({ i });
    await new Promise((r) => setTimeout(r, 50));
    await backend.close();
    backend.write({ i: 5 });
    expect(lines.map((l) => l.msg)).toEqual([
      'audit webhook buffer full; dropping events',
      'audit webhook did not take a batch; dropped',
      'audit webhook buffer has room again',
    ]);
    expect(lines[1]?.events).toBe(2);
    expect(lines[2]?.dropped).toBe(3);
    await backend.close();
  });
});
