import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KeyPair } from '../../../apimachinery/index.ts';
import type { ApiService } from '../resources/api-services.ts';

// How the aggregation layer reaches an extension API server: one of its
// Service's ready endpoints, as kube-apiserver with
// --enable-aggregator-routing (k3s's setting) dials them, so a server host
// needs no route to Service addresses; its certificate checked against the
// APIService's caBundle for the name <service>.<namespace>.svc (or not at all
// under insecureSkipTLSVerify); the API server's front-proxy client certificate.

/** What the aggregation layer sends every extension API server. */
export interface ExtensionClient {
  /** where a Service's port is served: a ready endpoint's address and port */
  resolve: (namespace: string, name: string, port: number) => Promise<{ host: string; port: number }>;
  /** the front-proxy client certificate (CN front-proxy-client, under the front-proxy CA) */
  frontProxy?: KeyPair;
}

/** Where an APIService's server answers, and the TLS options to reach it. */
export async function extensionTarget(client: ExtensionClient, s: ApiService): Promise<{ base: string; options: RequestOptions }> {
  const service = s.spec.service ?? {};
  const { host, port } = await client.resolve(service.namespace ?? '', service.name ?? '', service.port ?? 443);
  return {
    base: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    options: {
      host,
      port,
      servername: `${service.name}.${service.namespace}.svc`,
      ...(s.spec.caBundle ? { ca: Buffer.from(s.spec.caBundle, 'base64').toString() } : {}),
      rejectUnauthorized: !s.spec.insecureSkipTLSVerify,
      ...(client.frontProxy ? { cert: client.frontProxy.cert, key: client.frontProxy.key } : {}),
    },
  };
}

/** A GET to an extension API server as the aggregation layer itself (system:kube-aggregator of system:masters, as kube-aggregator checks them), resolved with its whole answer. */
export async function extensionGet(
  client: ExtensionClient,
  s: ApiService,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; body: string; url: string }> {
  const { base, options } = await extensionTarget(client, s);
  const url = `${base}${path}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...options,
        method: 'GET',
        path,
        headers: { accept: 'application/json', 'x-remote-user': 'system:kube-aggregator', 'x-remote-group': 'system:masters' },
        timeout: timeoutMs,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), url }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Get "${url}": context deadline exceeded`)));
    req.on('error', (err) => reject(Object.assign(err, { url })));
    req.end();
  });
}
