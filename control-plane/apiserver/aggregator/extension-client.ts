import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KeyPair } from '../../../apimachinery/index.ts';
import type { ServiceResolver } from '../webhook-client.ts';
import type { ApiService } from '../resources/api-services.ts';

// How the aggregation layer reaches an extension API server: the Service's
// ClusterIP and port, its certificate checked against the APIService's
// caBundle for the name <service>.<namespace>.svc (or not at all under
// insecureSkipTLSVerify), the API server's front-proxy client certificate.

/** What the aggregation layer sends every extension API server. */
export interface ExtensionClient {
  resolve: ServiceResolver;
  /** the front-proxy client certificate (CN front-proxy-client, under the front-proxy CA) */
  frontProxy?: KeyPair;
}

/** Where an APIService's server answers, and the TLS options to reach it. */
export async function extensionTarget(client: ExtensionClient, s: ApiService): Promise<{ base: string; options: RequestOptions }> {
  const service = s.spec.service ?? {};
  const ip = await client.resolve(service.namespace ?? '', service.name ?? '');
  const port = service.port ?? 443;
  return {
    base: `https://${ip.includes(':') ? `[${ip}]` : ip}:${port}`,
    options: {
      host: ip,
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
