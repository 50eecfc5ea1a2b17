import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sendJsonList } from './http-util.ts';

describe('sendJsonList', () => {
  it('waits for each drain without piling close listeners on the response', async () => {
    const items = Array.from({ length: 40 * 500 }, (_, i) => ({ metadata: { name: `item-${i}`, pad: 'x'.repeat(200) } }));
    let closeListeners = 0;
    const server = createServer((_req, res) => {
      const done = sendJsonList(res, '{"kind":"ConfigMapList","metadata":{},"items":', items, (item) => JSON.stringify(item));
      void done.then(() => (closeListeners = res.listenerCount('close')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      // read slowly, so the server's writes wait for drain many times
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let bytes = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(bytes).toBeGreaterThan(items.length * 200);
      // Node's own listeners only: one per drain wait would be 40
      expect(closeListeners).toBeLessThan(3);
    } finally {
      server.close();
    }
  });

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
