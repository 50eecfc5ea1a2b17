import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

// what the next hop decides for itself, or must not see
const DROPPED = new Set(['host', 'authorization', 'content-length', 'transfer-encoding', 'impersonate-user', 'impersonate-group', 'impersonate-uid']);

/**
 * Hands an HTTP upgrade request (WebSocket or SPDY, as kubectl exec, attach
 * and port-forward send it) on to `upstream` at `path`, then joins the two
 * connections byte for byte. The handshake and the streaming protocol are
 * the client's and the far end's own: whatever they agree on (a WebSocket
 * subprotocol, an SPDY stream version) passes through unread.
 */
export function tunnelUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, upstream: Duplex, target: { host: string; path: string }): void {
  const lines = [`${req.method ?? 'GET'} ${target.path} HTTP/1.1`, `Host: ${target.host}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    if (!DROPPED.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length) upstream.write(head);
  upstream.pipe(client);
  client.pipe(upstream);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', close);
  client.on('error', close);
  // one side gone: the other goes too, once what was already written has left
  upstream.on('close', () => client.end());
  client.on('close', () => upstream.destroy());
}

/** Answers an upgrade request that will not be tunnelled with a plain HTTP response and closes the connection. */
export function refuseUpgrade(client: Duplex, code: number, body: string, contentType = 'text/plain'): void {
  if (client.destroyed) return;
  client.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
