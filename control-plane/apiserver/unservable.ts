import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { ApiError, refuseUpgrade, type Status } from '../../apimachinery/index.ts';

// What reaches the API server's port but never becomes a request it routes:
// CONNECT (which Node hands over as a raw socket), requests the HTTP
// parser gives up on, and URIs too long to route. Each gets a Status and its connection is closed,
// instead of the connection simply dropping.

/** A Status for a code Kubernetes gives no reason of its own (414, 431). */
function bareStatus(code: number, message: string): string {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: '', code };
  return JSON.stringify(status);
}

/** Request line and headers together may take this much, as Go's default MaxHeaderBytes. */
export const MAX_HEADER_BYTES = 1024 * 1024;
/** A longer request URI is answered 414 before anything else is done with it. */
const MAX_REQUEST_URI_BYTES = 128 * 1024;

export function answerUnservable(server: Server): void {
  server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    const refused = new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    refuseUpgrade(socket, refused.code, JSON.stringify(refused.toStatus()), 'application/json');
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    if (err.code === 'HPE_HEADER_OVERFLOW')
      return refuseWhileDraining(socket, 431, bareStatus(431, `the request line and headers are larger than ${MAX_HEADER_BYTES} bytes`));
    const malformed = new ApiError('BadRequest', `malformed HTTP request: ${err.code ?? err.message}`);
    refuseUpgrade(socket, malformed.code, JSON.stringify(malformed.toStatus()), 'application/json');
  });
}

/**
 * Answers a client that is still sending: the answer is written, what else it
 * sends is read and dropped until it is done (closing at once would reset the
 * connection and lose the answer with it), then the connection is closed.
 */
function refuseWhileDraining(socket: Duplex, code: number, body: string): void {
  socket.write(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.on('data', () => {});
  socket.once('end', () => socket.end());
  setTimeout(() => socket.destroy(), DRAIN_MS).unref();
}

/** How long a refused client may go on sending before its connection is cut. */
const DRAIN_MS = 5_000;

/** Answers 414 to a request whose URI is too long to be worth routing; says whether it did. */
export function refuseLongUri(req: IncomingMessage, res: ServerResponse): boolean {
  if ((req.url?.length ?? 0) <= MAX_REQUEST_URI_BYTES) return false;
  const body = bareStatus(414, `the request URI is longer than ${MAX_REQUEST_URI_BYTES} bytes`);
  res.writeHead(414, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
  return true;
}
