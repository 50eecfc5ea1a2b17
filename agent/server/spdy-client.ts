import { connect, type Socket } from 'node:net';

// The client side of SPDY/3.1 as Kubernetes' streaming protocols use it: an
// HTTP/1.1 upgrade, then streams the client opens (SYN_STREAM with a few
// headers), data both ways and half-closes (FIN). Only that: no server push,
// no priorities. Header blocks are zlib streams the peer inflates with the
// SPDY dictionary; ours are stored (uncompressed) deflate blocks, which any
// inflater reads without the dictionary, and the peer's own header blocks
// (SYN_REPLY) are never needed, so we never inflate.

const VERSION = 3;
/** control frame types (SETTINGS 4 and the rest ask nothing of a client) */
const FrameType = { SynStream: 1, SynReply: 2, RstStream: 3, Ping: 6, GoAway: 7, Headers: 8 } as const;
type FrameType = (typeof FrameType)[keyof typeof FrameType];
const FLAG_FIN = 0x01;
const HEADER_BYTES = 8;

export interface SpdyStream {
  readonly id: number;
  write(data: Buffer): void;
  /** half-closes: nothing more will be written */
  end(): void;
}

export interface StreamHandlers {
  data(chunk: Buffer): void;
  /** the peer half-closed or reset the stream */
  end(): void;
}

function controlFrame(type: FrameType, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt16BE(0x8000 | VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(data.length, 4);
  head[4] = flags;
  return Buffer.concat([head, data]);
}

/** A header block: count, then each name and value length-prefixed (names lower case, as SPDY wants them). */
function headerBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** A stored (uncompressed), non-final deflate block. */
function storedBlock(raw: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt16LE(raw.length, 1);
  head.writeUInt16LE(~raw.length & 0xffff, 3);
  return Buffer.concat([head, raw]);
}

/**
 * A header block as the connection's deflate stream carries it: the zlib
 * header before the first, then `raw` in a stored block and an empty one, the
 * sync flush after which an inflater hands over what it has (without it Go's
 * waits for the next block and fails at the frame's end).
 */
const compressedBlock = (raw: Buffer, first: boolean) =>
  Buffer.concat([first ? Buffer.from([0x78, 0x01]) : Buffer.alloc(0), storedBlock(raw), storedBlock(Buffer.alloc(0))]);

/** Reads an HTTP/1.1 upgrade answer off the socket: its status line and headers, and what came after them. */
function upgradeAnswer(socket: Socket): Promise<{ status: number; headers: Record<string, string>; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      const [statusLine = '', ...lines] = seen.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, rest: seen.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/**
 * An HTTP/1.1 connection to `url` upgraded to SPDY/3.1 with `protocol`
 * (X-Stream-Protocol-Version): the socket, and what the server sent after
 * its answer. Rejects what the server refuses.
 */
export async function upgradeToSpdy(url: URL, protocol: string): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(Number(url.port), url.hostname);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  socket.write(
    [
      `POST ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      'Connection: Upgrade',
      'Upgrade: SPDY/3.1',
      `X-Stream-Protocol-Version: ${protocol}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  const answer = await upgradeAnswer(socket);
  if (answer.status !== 101 || answer.headers['x-stream-protocol-version'] !== protocol) {
    socket.destroy();
    throw new Error(`the streaming server did not take SPDY with ${protocol}: ${answer.status}`);
  }
  return { socket, rest: answer.rest };
}

export class SpdyClient {
  readonly #socket: Socket;
  readonly #handlers = new Map<number, StreamHandlers>();
  /** streams opened and not yet replied to */
  readonly #replies = new Map<number, () => void>();
  #nextId = 1;
  #headerBlocks = 0;
  #pending: Buffer = Buffer.alloc(0);
  #closed = false;
  readonly #onClose: (() => void)[] = [];

  private constructor(socket: Socket, rest: Buffer) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('close', () => this.#ended());
    socket.on('error', () => this.#ended());
    if (rest.length) this.#read(rest);
  }

  /** Upgrades an HTTP connection to `url` to SPDY/3.1 offering `protocol` (X-Stream-Protocol-Version); rejects what the server refuses. */
  static async connect(url: URL, protocol: string): Promise<SpdyClient> {
    const { socket, rest } = await upgradeToSpdy(url, protocol);
    return new SpdyClient(socket, rest);
  }

  /**
   * Opens a stream with these headers, its data and end going to `handlers`;
   * resolves once the server replied (as client-go's, our streams open one at
   * a time: a streaming server takes them so).
   */
  async open(headers: Record<string, string>, handlers: StreamHandlers): Promise<SpdyStream> {
    const id = this.#nextId;
    this.#nextId += 2;
    this.#handlers.set(id, handlers);
    const replied = new Promise<void>((resolve, reject) => {
      this.#replies.set(id, resolve);
      this.onClose(() => reject(new Error(`the streaming server closed the connection before stream ${id} was set up`)));
    });
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(id, 0);
    // associated stream 0, priority 0, slot 0
    this.#socket.write(controlFrame(FrameType.SynStream, 0, Buffer.concat([fixed, compressedBlock(headerBlock(headers), this.#headerBlocks++ === 0)])));
    await replied;
    return {
      id,
      write: (data) => {
        if (!this.#closed && data.length) this.#socket.write(dataFrame(id, 0, data));
      },
      end: () => {
        if (!this.#closed) this.#socket.write(dataFrame(id, FLAG_FIN, Buffer.alloc(0)));
      },
    };
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#onClose.push(listener);
  }

  close(): void {
    this.#socket.destroy();
  }

  #read(chunk: Buffer): void {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (this.#pending.length >= HEADER_BYTES) {
      const length = this.#pending.readUInt32BE(4) & 0xffffff;
      if (this.#pending.length < HEADER_BYTES + length) break;
      const frame = this.#pending.subarray(0, HEADER_BYTES + length);
      this.#pending = this.#pending.subarray(HEADER_BYTES + length);
      this.#frame(frame, length);
    }
  }

  #frame(frame: Buffer, length: number): void {
    const flags = frame[4] as number;
    const payload = frame.subarray(HEADER_BYTES);
    if ((frame[0] as number) & 0x80) {
      const type = frame.readUInt16BE(2);
      if (type === FrameType.Ping) this.#socket.write(controlFrame(FrameType.Ping, 0, payload));
      else if (type === FrameType.RstStream) this.#endStream(payload.readUInt32BE(0) & 0x7fffffff);
      else if (type === FrameType.GoAway) this.close();
      else if (type === FrameType.SynReply || type === FrameType.Headers) {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        this.#replies.get(id)?.();
        this.#replies.delete(id);
        if (flags & FLAG_FIN) this.#endStream(id);
      }
      // SETTINGS, WINDOW_UPDATE and the header blocks ask nothing of us
      return;
    }
    const id = frame.readUInt32BE(0) & 0x7fffffff;
    // no WINDOW_UPDATE back: Kubernetes' SPDY (spdystream) keeps no windows, and a frame the
    // server never reads before it closes makes its kernel reset the connection, losing what
    // it sent last
    if (length) this.#handlers.get(id)?.data(Buffer.from(payload));
    if (flags & FLAG_FIN) this.#endStream(id);
  }

  #endStream(id: number): void {
    const h = this.#handlers.get(id);
    this.#handlers.delete(id);
    // a stream reset before its reply is set up no more than it will be
    this.#replies.get(id)?.();
    this.#replies.delete(id);
    h?.end();
  }

  #ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#handlers.keys()]) this.#endStream(id);
    for (const listener of this.#onClose.splice(0)) listener();
  }
}
