import { request } from 'node:https';
import type { Registry } from './registry.ts';

// What kube-apiserver's webhooks (CRD conversion, admission) have in common:
// where one listens (a URL, or a Service of the cluster reached at its
// ClusterIP with the name <service>.<namespace>.svc), the CA it must chain
// to, and one JSON POST with a timeout.

export interface WebhookClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  /** PEM bundle (base64) the webhook's serving certificate must chain to */
  caBundle?: string;
}

/** The address and TLS name a Service's webhook is reached at (its ClusterIP). */
export type ServiceResolver = (namespace: string, name: string) => Promise<string>;

/** Where a webhook's Service answers: its ClusterIP, as kube-apiserver's default resolver dials it. */
export function clusterIpResolver(services: () => Pick<Registry, 'get'> | undefined): ServiceResolver {
  return async (namespace, name) => {
    const service = await services()?.get(namespace, name);
    const ip = (service?.spec as { clusterIP?: string } | undefined)?.clusterIP;
    if (!ip || ip === 'None') throw new Error(`service "${namespace}/${name}" has no cluster IP`);
    return ip;
  };
}

/** POSTs `body` as JSON to the webhook and resolves with its JSON answer; rejects with Go's `Post "<url>": …` wording (and the `statusCode` of an answer other than 200). */
export async function postToWebhook(config: WebhookClientConfig, resolve: ServiceResolver, body: object, timeoutMs: number): Promise<unknown> {
  const { url, service, caBundle } = config;
  const target = url
    ? new URL(url)
    : new URL(`https://${await resolve(service?.namespace ?? '', service?.name ?? '')}:${service?.port ?? 443}${service?.path ?? ''}`);
  const payload = JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(payload) },
        ...(caBundle ? { ca: Buffer.from(caBundle, 'base64').toString() } : {}),
        // a Service's certificate names it as <name>.<namespace>.svc
        ...(service ? { servername: `${service.name}.${service.namespace}.svc` } : {}),
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200)
            return fail(
              Object.assign(new Error(`Post "${target.href}": the server answered ${res.statusCode}: ${text.slice(0, 200)}`), { statusCode: res.statusCode }),
            );
          try {
            done(JSON.parse(text));
          } catch {
            fail(new Error('the response is not JSON'));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Post "${target.href}": context deadline exceeded (${timeoutMs / 1000}s)`)));
    req.on('error', (err) => fail(new Error(`Post "${target.href}": ${err.message}`)));
    req.end(payload);
  });
}
