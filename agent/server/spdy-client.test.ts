import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createInflate, constants } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SpdyClient } from './spdy-client.ts';

// A SPDY/3.1 server of the test's own, as much of one as the client meets:
// it takes the upgrade, inflates each SYN_STREAM's headers from the
// connection's one zlib stream, replies, echoes data upper-cased, and ends a
// stream when the client does; it pings once.

interface Seen {
  upgrade: string;
  opened: Record<string, string>[];
  /** the header blocks as sent, compressed */
  blocks: Buffer[];
  pong: boolean;
}

function frame(control: boolean, typeOrId: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  if (control) {
    head.writeUInt16BE(0x8003, 0);
    head.writeUInt16BE(typeOrId, 2);
  } else head.writeUInt32BE(typeOrId, 0);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

function parseHeaders(raw: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = 4;
  for (let i = 0; i < raw.readUInt32BE(0); i++) {
    const n = raw.readUInt32BE(at);
    const name = raw.subarray(at + 4, at + 4 + n).toString();
    at += 4 + n;
    const v = raw.readUInt32BE(at);
    headers[name] = raw.subarray(at + 4, at + 4 + v).toString();
    at += 4 + v;
  }
  return headers;
}

function fakeServer(seen: Seen): Server {
  return createServer((socket: Socket) => {
    const inflate = createInflate({ finishFlush: constants.Z_SYNC_FLUSH });
    let buf = Buffer.alloc(0);
    let upgraded = false;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        seen.upgrade = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        upgraded = true;
        socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
        socket.write(frame(true, 6, 0, Buffer.from([0, 0, 0, 1])));
      }
      while (buf.length >= 8) {
        const length = buf.readUInt32BE(4) & 0xffffff;
        if (buf.length < 8 + length) break;
        const f = buf.subarray(0, 8 + length);
        buf = buf.subarray(8 + length);
        const payload = f.subarray(8);
        if ((f[0] as number) & 0x80) {
          const type = f.readUInt16BE(2);
          if (type === 6) seen.pong = true;
          if (type !== 1) continue;
          seen.blocks.push(Buffer.from(payload.subarray(10)));
          inflate.write(payload.subarray(10), () => {
            inflate.flush(constants.Z_SYNC_FLUSH, () => {
              seen.opened.push(parseHeaders(inflate.read() as Buffer));
              socket.write(frame(true, 2, 0, Buffer.concat([payload.subarray(0, 4), Buffer.from([0, 0])])));
            });
          });
        } else {
          const id = f.readUInt32BE(0);
          if (length) socket.write(frame(false, id, 0, Buffer.from(payload.toString().toUpperCase())));
          if ((f[4] as number) & 1) socket.write(frame(false, id, 1, Buffer.alloc(0)));
        }
      }
    });
  });
}

let server: Server | undefined;
afterEach(() => server?.close());

describe('the SPDY client', () => {
  it('upgrades, opens streams one after another with headers any inflater reads, and carries data and half-closes both ways', async () => {
    const seen: Seen = { upgrade: '', opened: [], blocks: [], pong: false };
    server = fakeServer(seen);
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const client = await SpdyClient.connect(new URL(`http://127.0.0.1:${port}/exec/abc?x=1`), 'v4.channel.k8s.io');
    expect(seen.upgrade).toMatch(/^POST \/exec\/abc\?x=1 HTTP\/1\.1\r\n/);
    expect(seen.upgrade).toContain('Upgrade: SPDY/3.1');
    expect(seen.upgrade).toContain('X-Stream-Protocol-Version: v4.channel.k8s.io');
    const got: string[] = [];
    const ended: number[] = [];
    const open = (type: string) =>
      client.open({ streamType: type }, { data: (c) => got.push(`${type}:${c}`), end: () => ended.push(Number(type === 'stdin')) });
    const error = await open('error');
    const stdin = await open('stdin');
    expect([error.id, stdin.id]).toEqual([1, 3]);
    expect(seen.opened).toEqual([{ streamtype: 'error' }, { streamtype: 'stdin' }]);
    // every header block ends with a sync flush, so an inflater hands its headers over at once
    for (const b of seen.blocks) expect(b.subarray(-5)).toEqual(Buffer.from([0, 0, 0, 0xff, 0xff]));
    stdin.write(Buffer.from('hello'));
    stdin.end();
    await expect.poll(() => got).toEqual(['stdin:HELLO']);
    await expect.poll(() => ended).toEqual([1]);
    expect(seen.pong).toBe(true);
    const closed = new Promise<void>((r) => client.onClose(r));
    client.close();
    await closed;
  });

  it('refuses a server that does not take the protocol', async () => {
    server = createServer((s) => s.once('data', () => s.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n')));
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    await expect(SpdyClient.connect(new URL(`http://127.0.0.1:${port}/exec/x`), 'v4.channel.k8s.io')).rejects.toThrow(
      'did not take SPDY with v4.channel.k8s.io: 403',
    );
  });
});
