import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sendJsonList } from './http-util.ts';

describe('sendJsonList', () => {
  it('streams a list of many chunks that parses as one JSON list', async () => {
    const items = Array.from({ length: 1201 }, (_, i) => ({ metadata: { name: `item-${i}` } }));
    const server = createServer((_req, res) => void sendJsonList(res, '{"kind":"ConfigMapList","metadata":{},"items":', items, (item) => JSON.stringify(item)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(res.headers.get('content-type')).toBe('application/json');
      const list = (await res.json()) as { kind: string; items: { metadata: { name: string } }[] };
      expect(list.kind).toBe('ConfigMapList');
      expect(list.items.map((i) => i.metadata.name)).toEqual(items.map((i) => i.metadata.name));
    } finally {
      server.close();
    }
  });
});
