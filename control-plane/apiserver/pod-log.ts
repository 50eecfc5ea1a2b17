import { request } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, errors } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';

export interface KubeletClientConfig {
  ca: string;
  cert: string;
  key: string;
}

const LOG_PARAMS = ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes'];

/** The container a pods/log, exec or attach request means: the one named (which must exist), or the pod's only one. */
export function podContainer(pod: Pod, name: string, requested: string | null): string {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
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

/** GET pods/{name}/log: finds the pod's node and streams from its kubelet API. */
export async function proxyPodLog(args: {
  pods: Registry;
  nodes: Registry;
  namespace: string;
  name: string;
  query: URLSearchParams;
  kubelet: KubeletClientConfig;
  res: ServerResponse;
}): Promise<void> {
  const pod = (await args.pods.get(args.namespace, args.name)) as unknown as Pod;
  const container = podContainer(pod, args.name, args.query.get('container'));
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${args.name} does not have a host assigned`);
  const q = new URLSearchParams();
  for (const p of LOG_PARAMS) {
    const v = args.query.get(p);
    if (v !== null) q.set(p, v);
  }
  await proxyToKubelet({
    nodes: args.nodes,
    nodeName,
    path: `/containerLogs/${encodeURIComponent(args.namespace)}/${encodeURIComponent(args.name)}/${encodeURIComponent(container)}?${q}`,
    kubelet: args.kubelet,
    res: args.res,
  });
}

/** Where a node's kubelet API listens: its InternalIP (else first address) and the kubelet port it reports. */
export async function kubeletAddress(nodes: Registry, nodeName: string): Promise<{ host: string; port: number }> {
  const node = (await nodes.get(undefined, nodeName)) as unknown as Node;
  const host = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? node.status?.addresses?.[0]?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
  if (!host) throw new ApiError('InternalError', `node ${nodeName} has no address`);
  return { host, port };
}

/** Streams a GET of `path` on a node's kubelet API (at its InternalIP and kubelet port) to `res`, with the API server's kubelet client certificate. */
export async function proxyToKubelet(args: {
  nodes: Registry;
  nodeName: string;
  path: string;
  kubelet: KubeletClientConfig;
  res: ServerResponse;
}): Promise<void> {
  const { nodeName } = args;
  const { host, port } = await kubeletAddress(args.nodes, nodeName);
  await new Promise<void>((resolve, reject) => {
    const upstream = request(
      { host, port, path: args.path, method: 'GET', ca: args.kubelet.ca, cert: args.kubelet.cert, key: args.kubelet.key, servername: nodeName },
      (r) => {
        const code = r.statusCode ?? 502;
        args.res.writeHead(code, { 'content-type': r.headers['content-type'] ?? 'text/plain', 'cache-control': 'no-cache, private' });
        args.res.flushHeaders();
        r.pipe(args.res);
        r.on('end', resolve);
        r.on('error', reject);
      },
    );
    upstream.on('error', (err) => reject(new ApiError('InternalError', `Get "https://${host}:${port}${args.path.split('?')[0]}": ${err.message}`)));
    args.res.on('close', () => upstream.destroy());
    upstream.end();
  });
}
