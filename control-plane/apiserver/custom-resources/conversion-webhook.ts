import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { ApiError } from '../../../apimachinery/index.ts';
import type { Obj } from '../resource-info.ts';

/** Where a definition's conversion webhook listens: a URL, or a Service of the cluster. */
export interface WebhookClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  /** PEM bundle (base64) the webhook's serving certificate must chain to */
  caBundle?: string;
}

/** The address and TLS name a Service's webhook is reached at (its ClusterIP). */
export type ServiceResolver = (namespace: string, name: string) => Promise<string>;

/** kube-apiserver's limit for a conversion call */
const TIMEOUT_MS = 30_000;

/**
 * Calls a CustomResourceDefinition's conversion webhook with a
 * ConversionReview (apiextensions.k8s.io/v1) and checks its answer: same
 * uid, one object back for each sent, each in the version asked for. The
 * webhook may change labels and annotations; the rest of each object's
 * metadata is kept as it was, as kube-apiserver does.
 */
export class ConversionWebhook {
  readonly #config: WebhookClientConfig;
  readonly #kind: string;
  readonly #resolve: ServiceResolver;

  constructor(config: WebhookClientConfig, kind: string, resolve: ServiceResolver) {
    this.#config = config;
    this.#kind = kind;
    this.#resolve = resolve;
  }

  async convert(objects: Obj[], desiredAPIVersion: string): Promise<Obj[]> {
    const pending = objects.filter((o) => o.apiVersion !== desiredAPIVersion);
    if (pending.length === 0) return objects;
    const uid = randomUUID();
    let converted: Obj[];
    try {
      const review = await this.#post({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'ConversionReview',
        request: { uid, desiredAPIVersion, objects: pending },
      });
      converted = checkedResponse(review, uid, pending.length, desiredAPIVersion);
    } catch (err) {
      throw new ApiError('InternalError', `conversion webhook for ${desiredAPIVersion}, Kind=${this.#kind} failed: ${(err as Error).message}`);
    }
    let next = 0;
    return objects.map((o) => {
      if (o.apiVersion === desiredAPIVersion) return o;
      const c = converted[next++] as Obj;
      const { labels, annotations } = c.metadata ?? {};
      return { ...c, metadata: { ...o.metadata, labels, annotations } };
    });
  }

  async #post(body: object): Promise<unknown> {
    const { url, service, caBundle } = this.#config;
    const target = url
      ? new URL(url)
      : new URL(`https://${await this.#resolve(service?.namespace ?? '', service?.name ?? '')}:${service?.port ?? 443}${service?.path ?? ''}`);
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(payload) },
          ...(caBundle ? { ca: Buffer.from(caBundle, 'base64').toString() } : {}),
          // a Service's certificate names it as <name>.<namespace>.svc
          ...(service ? { servername: `${service.name}.${service.namespace}.svc` } : {}),
          timeout: TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) return reject(new Error(`Post "${target.href}": the server answered ${res.statusCode}: ${text.slice(0, 200)}`));
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new Error('the response is not JSON'));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`Post "${target.href}": timed out after ${TIMEOUT_MS / 1000}s`)));
      req.on('error', (err) => reject(new Error(`Post "${target.href}": ${err.message}`)));
      req.end(payload);
    });
  }
}

/** The converted objects of a ConversionReview's response, or why it cannot be used. */
export function checkedResponse(review: unknown, uid: string, count: number, desiredAPIVersion: string): Obj[] {
  const response = (review as { response?: { uid?: string; convertedObjects?: Obj[]; result?: { status?: string; message?: string } } })?.response;
  if (!response) throw new Error('no response in the ConversionReview');
  if (response.uid !== uid) throw new Error(`expected response uid ${uid}, got ${response.uid}`);
  if (response.result?.status !== 'Success') throw new Error(`conversion request failed: ${response.result?.message ?? 'no reason given'}`);
  const objects = response.convertedObjects ?? [];
  if (objects.length !== count) throw new Error(`expected ${count} converted objects, got ${objects.length}`);
  for (const o of objects) {
    if (o?.apiVersion !== desiredAPIVersion) throw new Error(`invalid apiVersion "${o?.apiVersion}" in a converted object, expected "${desiredAPIVersion}"`);
  }
  return objects;
}
