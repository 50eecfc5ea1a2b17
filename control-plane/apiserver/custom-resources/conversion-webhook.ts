import { randomUUID } from 'node:crypto';
import { ApiError } from '../../../apimachinery/index.ts';
import type { Obj } from '../resource-info.ts';
import { postToWebhook, type ServiceResolver, type WebhookClientConfig } from '../webhook-client.ts';

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

  #post(body: object): Promise<unknown> {
    return postToWebhook(this.#config, this.#resolve, body, TIMEOUT_MS);
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
