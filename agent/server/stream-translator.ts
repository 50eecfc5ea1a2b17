import type { WebSocket } from 'ws';
import { SpdyClient, upgradeToSpdy, type SpdyStream } from './spdy-client.ts';

// exec and attach over WebSocket with v5.channel.k8s.io, which kubectl asks
// for first: the runtime's streaming server speaks it not (containerd's stops
// at v4), so the agent speaks it to the client and SPDY with
// v4.channel.k8s.io to the runtime, as kube-apiserver's stream translator
// does. Each WebSocket message is a channel byte and data (0 stdin, 1 stdout,
// 2 stderr, 3 error, 4 resize); v5 adds the close signal [255, channel], which
// half-closes stdin, so a command reading its input to the end finishes.

export const V5_CHANNEL = 'v5.channel.k8s.io';
/** kubectl's port-forward over WebSocket: SPDY frames carried in binary messages */
export const SPDY_TUNNELED_PORT_FORWARD = 'SPDY/3.1+portforward.k8s.io';
const V4_CHANNEL = 'v4.channel.k8s.io';
const Channel = { Stdin: 0, Stdout: 1, Stderr: 2, Error: 3, Resize: 4, Close: 255 } as const;
type Channel = (typeof Channel)[keyof typeof Channel];

export interface TranslatedStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Joins a v5 WebSocket to the runtime's streaming URL over SPDY; resolves once the session is set up, and ends the WebSocket when the runtime is done. */
export async function translateToSpdy(ws: WebSocket, target: URL, streams: TranslatedStreams): Promise<void> {
  // what the client sends before the streams are set up waits for them
  const early: Buffer[] = [];
  ws.on('message', (message: Buffer) => early.push(message));
  const spdy = await SpdyClient.connect(target, V4_CHANNEL);
  // the streams the runtime waits for, each writing back on its channel; the session ends when those it writes on have ended
  const open = new Set<Channel>();
  const stream = (type: string, channel: Channel, writesBack: boolean): Promise<SpdyStream> => {
    if (writesBack) open.add(channel);
    return spdy.open(
      { streamType: type },
      {
        data: (chunk) => ws.send(Buffer.concat([Buffer.from([channel]), chunk])),
        end: () => {
          open.delete(channel);
          if (writesBack && open.size === 0) finish();
        },
      },
    );
  };
  const finish = () => {
    ws.close(1000);
    spdy.close();
  };
  await stream('error', Channel.Error, true);
  const stdin = streams.stdin ? await stream('stdin', Channel.Stdin, false) : undefined;
  if (streams.stdout) await stream('stdout', Channel.Stdout, true);
  if (streams.stderr && !streams.tty) await stream('stderr', Channel.Stderr, true);
  const resize = streams.tty ? await stream('resize', Channel.Resize, false) : undefined;
  const fromClient = (message: Buffer) => {
    const channel = message[0];
    const data = message.subarray(1);
    if (channel === Channel.Stdin) stdin?.write(data);
    else if (channel === Channel.Resize) resize?.write(data);
    else if (channel === Channel.Close && data[0] === Channel.Stdin) stdin?.end();
  };
  ws.removeAllListeners('message');
  ws.on('message', fromClient);
  for (const message of early.splice(0)) fromClient(message);
  ws.on('close', () => spdy.close());
  spdy.onClose(() => ws.close(1000));
}

/**
 * Port forwarding as kubectl does it over WebSocket: its SPDY session rides
 * in the WebSocket's binary messages, so the agent upgrades its own
 * connection to the runtime to SPDY with portforward.k8s.io and passes the
 * bytes through both ways, as kube-apiserver's tunneling proxy does.
 */
export async function tunnelSpdyOverWebSocket(ws: WebSocket, target: URL): Promise<void> {
  const early: Buffer[] = [];
  ws.on('message', (message: Buffer) => early.push(message));
  const { socket, rest } = await upgradeToSpdy(target, 'portforward.k8s.io');
  ws.removeAllListeners('message');
  for (const message of early.splice(0)) socket.write(message);
  ws.on('message', (message: Buffer) => socket.write(message));
  if (rest.length) ws.send(rest);
  socket.on('data', (chunk: Buffer) => ws.send(chunk));
  socket.on('close', () => ws.close(1000));
  socket.on('error', () => ws.close(1011));
  ws.on('close', () => socket.destroy());
}
