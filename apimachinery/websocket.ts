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
  // `ws` takes only RFC 7230 tokens as subprotocols, and Kubernetes names one with a slash
  // (SPDY/3.1+portforward.k8s.io): it is shown the offers by index, and answers with the name
  if (offered.length) upgrade.req.headers['sec-websocket-protocol'] = offered.map((_, i) => `p${i}`).join(', ');
  const server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    handleProtocols: () => offered.find((p) => supported.includes(p)) ?? false,
  });
  return new Promise((resolve) => server.handleUpgrade(upgrade.req, upgrade.socket, upgrade.head, resolve));
}
