import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { acceptWebSocket, ApiError, isWebSocketRequest, queryBool, refuseUpgrade, tunnelUpgrade, unescapePathSegment } from '../../apimachinery/index.ts';
import { SPDY_TUNNELED_PORT_FORWARD, translateToSpdy, tunnelSpdyOverWebSocket, V5_CHANNEL, type TranslatedStreams } from './stream-translator.ts';
import type { CriClient } from '../cri/index.ts';
import type { ObservedPod } from '../pods/observed.ts';
import { KubeletAuthError, type KubeletAuth } from './kubelet-auth.ts';

export interface StreamingDeps {
  podByName: (namespace: string, name: string) => Pod | undefined;
  cri: CriClient;
  observe: (uid: string) => Promise<ObservedPod>;
  auth: KubeletAuth;
}

class StreamError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

const flag = (q: URLSearchParams, ...names: string[]) => names.some((n) => queryBool(q.get(n)));

/** A WebSocket upgrade offering a subprotocol the agent answers itself (the runtime's server knows neither v5 nor SPDY tunnelled in WebSocket). */
const offers = (req: IncomingMessage, protocol: string) =>
  isWebSocketRequest(req) &&
  String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .some((p) => p.trim() === protocol);

/**
 * The kubelet's exec, attach and portForward endpoints: the runtime is asked
 * (CRI Exec, Attach, PortForward) for a streaming URL on its own server, and
 * the client's upgrade request is tunnelled there unchanged (containerd's
 * streaming server speaks SPDY and WebSocket up to v4.channel.k8s.io), except
 * what it does not speak, which the agent answers itself: a WebSocket exec or
 * attach offering v5.channel.k8s.io (translated to SPDY), and a port forward
 * whose SPDY rides in a WebSocket (passed on over a SPDY upgrade of its own).
 */
export async function serveStreaming(deps: StreamingDeps, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  // the HTTP server let go of the socket: a reset while we decide must not take the process down
  socket.on('error', () => socket.destroy());
  try {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    await deps.auth.check(req, url.pathname).catch((err: unknown) => {
      throw err instanceof KubeletAuthError ? new StreamError(err.code, err.message) : err;
    });
    const m = /^\/(exec|attach|portForward)\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) throw new StreamError(404, '404 page not found');
    const [kind, ns, name, container] = [m[1], m[2], m[3], m[4]].map((s) => (s === undefined ? undefined : unescapePathSegment(s))) as [
      string,
      string,
      string,
      string | undefined,
    ];
    const pod = deps.podByName(ns, name);
    if (!pod) throw new StreamError(404, `pod "${name}" not found in namespace "${ns}"`);
    const observed = await deps.observe(pod.metadata?.uid ?? '');
    const q = url.searchParams;
    let streamUrl: string;
    // which of a command's streams the client asked for (none: a port forward)
    let streams: TranslatedStreams | undefined;
    if (kind === 'portForward') {
      const sandbox = observed.sandboxes.find((s) => s.state === 'SANDBOX_READY');
      if (!sandbox) throw new StreamError(400, `pod ${name} has no running sandbox`);
      // the kubelet's own `port`, or the API's `ports` (PodPortForwardOptions) as the API server passes the query through
      const ports = [...q.getAll('port'), ...q.getAll('ports').flatMap((p) => p.split(','))].map(Number).filter((p) => p > 0);
      streamUrl = await deps.cri.portForward(sandbox.id, ports);
    } else {
      const running = observed.containers.filter((c) => c.name === container && c.state === 'CONTAINER_RUNNING');
      const ct = running.sort((a, b) => b.createdAt - a.createdAt)[0];
      if (!ct) throw new StreamError(400, `container ${container} is not running in pod ${name}`);
      streams = { tty: flag(q, 'tty'), stdin: flag(q, 'stdin', 'input'), stdout: flag(q, 'stdout', 'output'), stderr: flag(q, 'stderr', 'error') };
      if (!streams.stdin && !streams.stdout && !streams.stderr) throw new StreamError(400, 'you must specify at least 1 of stdin, stdout, stderr');
      streamUrl =
        kind === 'exec'
          ? await deps.cri.exec({ containerId: ct.id, cmd: q.getAll('command'), ...streams })
          : await deps.cri.attach({ containerId: ct.id, ...streams });
    }
    const target = new URL(streamUrl);
    if (streams && offers(req, V5_CHANNEL)) {
      const ws = await acceptWebSocket({ req, socket, head }, [V5_CHANNEL]);
      if (ws) return await translateToSpdy(ws, target, streams).catch((err: Error) => ws.close(1011, err.message.slice(0, 120)));
    }
    if (!streams && offers(req, SPDY_TUNNELED_PORT_FORWARD)) {
      const ws = await acceptWebSocket({ req, socket, head }, [SPDY_TUNNELED_PORT_FORWARD]);
      if (ws) return await tunnelSpdyOverWebSocket(ws, target).catch((err: Error) => ws.close(1011, err.message.slice(0, 120)));
    }
    const upstream = await new Promise<Socket>((resolve, reject) => {
      const s = connect(Number(target.port), target.hostname);
      s.once('connect', () => resolve(s));
      s.once('error', (err) => reject(new StreamError(502, `the runtime's streaming server at ${target.host}: ${err.message}`)));
    });
    tunnelUpgrade(req, socket, head, upstream, { host: target.host, path: `${target.pathname}${target.search}` });
  } catch (err) {
    const code = err instanceof StreamError || err instanceof ApiError ? err.code : 500;
    refuseUpgrade(socket, code, (err as Error).message);
  }
}
