import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

/** Whether a request asks to become a WebSocket. */
export function isWebSocketRequest(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket' && typeof req.headers['sec-websocket-key'] === 'string';
}

/**
 * Completes a WebSocket handshake on an upgraded socket (by `ws`), with the
 * first subprotocol the client offers that `supported` has (none offered:
 * none); resolves with the WebSocket, or with null, writing nothing, when the
 * client offered only other subprotocols.
 */
export function acceptWebSocket(upgrade: { req: IncomingMessage; socket: Duplex; head: Buffer }, supported: readonly string[]): Promise<WebSocket | null> {
  const offered = String(upgrade.req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (offered.length && !offered.some((p) => supported.includes(p))) return Promise.resolve(null);
  const server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    handleProtocols: (protocols) => supported.find((p) => protocols.has(p)) ?? false,
  });
  return new Promise((resolve) => server.handleUpgrade(upgrade.req, upgrade.socket, upgrade.head, resolve));
}
