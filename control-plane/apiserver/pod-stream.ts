import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, errors, queryBool, tunnelUpgrade } from '../../apimachinery/index.ts';
import { kubeletAddress, podContainer, type KubeletClientConfig } from './pod-log.ts';
import type { Registry } from './registry.ts';

/** The pod subresources that are upgraded connections, and the kubelet endpoint each goes to. */
export const STREAM_SUBRESOURCES: Record<string, string> = { exec: 'exec', attach: 'attach', portforward: 'portForward' };

/**
 * pods/exec, pods/attach and pods/portforward: the upgrade request goes to
 * the kubelet of the pod's node (with the API server's kubelet client
 * certificate) and the connection is joined through, so kubectl and the
 * runtime's streaming server settle WebSocket or SPDY between themselves.
 */
export async function proxyPodStream(args: {
  pods: Registry;
  nodes: Registry;
  namespace: string;
  name: string;
  subresource: string;
  query: URLSearchParams;
  kubelet: KubeletClientConfig;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
}): Promise<void> {
  const pod = (await args.pods.get(args.namespace, args.name)) as unknown as Pod;
  if (args.subresource !== 'portforward' && !['stdin', 'stdout', 'stderr'].some((s) => queryBool(args.query.get(s))))
    throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  const endpoint = STREAM_SUBRESOURCES[args.subresource] as string;
  let path = `/${endpoint}/${encodeURIComponent(args.namespace)}/${encodeURIComponent(args.name)}`;
  if (endpoint !== 'portForward') {
    path += `/${encodeURIComponent(podContainer(pod, args.name, args.query.get('container')))}`;
  }
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')
    throw errors.badRequest(
      `cannot ${args.subresource === 'portforward' ? 'forward ports of' : `${args.subresource} into`} a container in a completed pod; current phase is ${pod.status.phase}`,
    );
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${args.name} does not have a host assigned`);
  const { host, port } = await kubeletAddress(args.nodes, nodeName);
  const upstream = await new Promise<TLSSocket>((resolve, reject) => {
    const s = connect({ host, port, ca: args.kubelet.ca, cert: args.kubelet.cert, key: args.kubelet.key, servername: nodeName });
    s.once('secureConnect', () => resolve(s));
    s.once('error', (err) => reject(new ApiError('InternalError', `error dialing backend: ${err.message}`)));
  });
  tunnelUpgrade(args.req, args.socket, args.head, upstream, { host: `${host}:${port}`, path: `${path}?${args.query}` });
}
