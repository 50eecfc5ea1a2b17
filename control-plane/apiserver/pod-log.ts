import { request } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, acceptWebSocket, errors, podContainers } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';

export interface KubeletClientConfig {
  ca: string;
  cert: string;
  key: string;
}

const LOG_PARAMS = ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes'];

/** The container a pods/log, exec or attach request means: the one named (which must exist), or the pod's only one. */
export function podContainer(pod: Pod, name: string, requested: string | null): string {
  const containers = podContainers(pod.spec).map((c) => c.name);
  let container = requested ?? '';
  if (!container) {
    if ((pod.spec?.containers ?? []).length !== 1) {
      throw errors.badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${(pod.spec?.containers ?? []).map((c) => c.name).join(' ')}]`,
      );
    }
    container = pod.spec?.containers[0]?.name ?? '';
  }
  if (!containers.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

interface PodLogRequest {
  pods: Registry;
  nodes: Registry;
  namespace: string;
  name: string;
  query: URLSearchParams;
  kubelet: KubeletClientConfig;
}

/** GET pods/{name}/log: finds the pod's node and streams from its kubelet API. */
export async function proxyPodLog(args: PodLogRequest & { res: ServerResponse }): Promise<void> {
  const { nodeName, path } = await podLogSource(args);
  await proxyToKubelet({ nodes: args.nodes, nodeName, path, kubelet: args.kubelet, res: args.res });
}

/** Which kubelet has a pod's log, and the path that serves it there. */
async function podLogSource(args: PodLogRequest): Promise<{ nodeName: string; path: string }> {
  const pod = (await args.pods.get(args.namespace, args.name)) as unknown as Pod;
  const container = podContainer(pod, args.name, args.query.get('container'));
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${args.name} does not have a host assigned`);
  const q = new URLSearchParams();
  for (const p of LOG_PARAMS) {
    const v = args.query.get(p);
    if (v !== null) q.set(p, v);
  }
  return { nodeName, path: `/containerLogs/${encodeURIComponent(args.namespace)}/${encodeURIComponent(args.name)}/${encodeURIComponent(container)}?${q}` };
}

/** The WebSocket subprotocols pods/log speaks, as kube-apiserver's: raw bytes in binary frames, or base64 in text frames. */
const LOG_PROTOCOLS = ['binary.k8s.io', 'base64.binary.k8s.io'] as const;

/**
 * pods/log over a WebSocket (what clients that stream logs that way ask
 * for): each chunk of the log is a frame, binary for binary.k8s.io (and no
 * protocol), base64 text for base64.binary.k8s.io; a close frame ends it.
 */
export async function streamPodLogOverWebSocket(args: PodLogRequest & { req: IncomingMessage; socket: Duplex; head: Buffer }): Promise<void> {
  const { nodeName, path } = await podLogSource(args);
  const upstream = await kubeletGet({ nodes: args.nodes, nodeName, path, kubelet: args.kubelet });
  if ((upstream.statusCode ?? 502) !== 200) {
    upstream.resume();
    throw new ApiError('BadRequest', `the kubelet answered ${upstream.statusCode} for the log`);
  }
  const ws = await acceptWebSocket(args, LOG_PROTOCOLS);
  if (ws === null) {
    upstream.destroy();
    throw errors.badRequest(`none of the offered subprotocols is one of ${LOG_PROTOCOLS.join(', ')}`);
  }
  const base64 = ws.protocol === 'base64.binary.k8s.io';
  ws.on('close', () => upstream.destroy());
  upstream.on('data', (chunk: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(base64 ? chunk.toString('base64') : chunk, { binary: !base64 });
  });
  // a normal closure ends the stream
  upstream.on('end', () => ws.close(1000));
}

/** Where a node's kubelet API listens: its InternalIP (else first address) and the kubelet port it reports. */
export async function kubeletAddress(nodes: Registry, nodeName: string): Promise<{ host: string; port: number }> {
  const node = (await nodes.get(undefined, nodeName)) as unknown as Node;
  const host = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? node.status?.addresses?.[0]?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
  if (!host) throw new ApiError('InternalError', `node ${nodeName} has no address`);
  return { host, port };
}

/**
 * A GET of `path` on a node's kubelet API (at its InternalIP and kubelet
 * port, verified as that node), with the API server's kubelet client
 * certificate; resolves with the response once its headers are in.
 */
export async function kubeletGet(args: {
  nodes: Registry;
  nodeName: string;
  path: string;
  kubelet: KubeletClientConfig;
  timeoutMs?: number;
  /** the client's Accept header, passed on (a scraper's choice of metrics format) */
  accept?: string;
}): Promise<IncomingMessage> {
  const { nodeName, kubelet } = args;
  const { host, port } = await kubeletAddress(args.nodes, nodeName);
  const headers = args.accept ? { accept: args.accept } : undefined;
  return new Promise((resolve, reject) => {
    const upstream = request(
      {
        host,
        port,
        path: args.path,
        method: 'GET',
        headers,
        ca: kubelet.ca,
        cert: kubelet.cert,
        key: kubelet.key,
        servername: nodeName,
        timeout: args.timeoutMs,
      },
      resolve,
    );
    upstream.on('timeout', () => upstream.destroy(new Error(`no answer within ${args.timeoutMs} ms`)));
    upstream.on('error', (err) => reject(new ApiError('InternalError', `Get "https://${host}:${port}${args.path.split('?')[0]}": ${err.message}`)));
    upstream.end();
  });
}

/** Streams a GET of `path` on a node's kubelet API to `res`. */
export async function proxyToKubelet(args: {
  nodes: Registry;
  nodeName: string;
  path: string;
  kubelet: KubeletClientConfig;
  res: ServerResponse;
  accept?: string;
}): Promise<void> {
  const r = await kubeletGet(args);
  args.res.on('close', () => r.destroy());
  args.res.writeHead(r.statusCode ?? 502, { 'content-type': r.headers['content-type'] ?? 'text/plain', 'cache-control': 'no-cache, private' });
  args.res.flushHeaders();
  await new Promise<void>((resolve, reject) => {
    r.pipe(args.res);
    r.on('end', resolve);
    r.on('error', reject);
  });
}
