import { request } from 'node:https';
import { sleep, type ClientConfig, type Logger } from '../../../apimachinery/index.ts';

// The audit webhook backend (kube-apiserver's --audit-webhook-config-file in
// batch mode): events are buffered and POSTed as an audit.k8s.io/v1 EventList
// to the server the kubeconfig names, as the credentials it gives, once a
// batch is full or its first event has waited long enough. A batch the
// webhook does not take is retried with growing waits, then dropped (and
// said); events past a full buffer are dropped the same way. The request
// path never waits for the webhook.

export interface AuditWebhookOptions {
  /** where the events go and as whom (the webhook's kubeconfig) */
  target: ClientConfig;
  /** events per request (--audit-webhook-batch-max-size, 400) */
  batchMaxSize: number;
  /** how long the first event of a batch waits for the rest (--audit-webhook-batch-max-wait, 30 s) */
  batchMaxWaitMs: number;
  /** events held while batches are on their way (--audit-webhook-batch-buffer-size, 10000) */
  bufferSize: number;
  /** the first wait before a failed batch is sent again (--audit-webhook-initial-backoff, 10 s); each next one is 1.5 times longer */
  initialBackoffMs: number;
  log: Logger;
}

/** Tries per batch, as kube-apiserver's webhook retry. */
const TRIES = 5;

export class AuditWebhookBackend {
  readonly #o: AuditWebhookOptions;
  #batch: object[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** events taken and not yet delivered or dropped */
  #held = 0;
  /** events dropped since the buffer filled */
  #dropped = 0;
  readonly #sending = new Set<Promise<void>>();
  readonly #closing = new AbortController();

  constructor(o: AuditWebhookOptions) {
    this.#o = o;
  }

  write(event: object): void {
    if (this.#held >= this.#o.bufferSize) {
      // said once per spell of dropping, with the count when it ends
      if (this.#dropped++ === 0) this.#o.log.warn({ bufferSize: this.#o.bufferSize }, 'audit webhook buffer full; dropping events');
      return;
    }
    if (this.#dropped > 0) {
      this.#o.log.warn({ dropped: this.#dropped }, 'audit webhook buffer has room again');
      this.#dropped = 0;
    }
    this.#held++;
    this.#batch.push(event);
    if (this.#batch.length >= this.#o.batchMaxSize) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.#o.batchMaxWaitMs);
  }

  /** Sends what is buffered and waits for every batch on its way (a last try each). */
  async close(): Promise<void> {
    this.#flush();
    this.#closing.abort();
    await Promise.all(this.#sending);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#batch.length) return;
    const items = this.#batch;
    this.#batch = [];
    const sending = this.#deliver(items).finally(() => {
      this.#held -= items.length;
      this.#sending.delete(sending);
    });
    this.#sending.add(sending);
  }

  async #deliver(items: object[]): Promise<void> {
    const body = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });
    let wait = this.#o.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await post(this.#o.target, body);
        return;
      } catch (err) {
        if (attempt >= TRIES || this.#closing.signal.aborted) {
          this.#o.log.warn({ events: items.length, tries: attempt, err: (err as Error).message }, 'audit webhook did not take a batch; dropped');
          return;
        }
        await sleep(wait, this.#closing.signal);
        wait *= 1.5;
      }
    }
  }
}

/** POSTs the body to the target's server URL; resolves on a 2xx answer. */
function post(target: ClientConfig, body: string): Promise<void> {
  const url = new URL(target.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: target.ca,
        cert: target.cert,
        key: target.key,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        res.on('end', () => (code >= 200 && code < 300 ? resolve() : reject(new Error(`the webhook answered ${code}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}
