import { backoffDelay, certificateValidity, sleep, type KeyPair, type Logger } from '../../apimachinery/index.ts';
import type { CertificateStore } from './store.ts';

const RETRY = { initialMs: 2_000, maxMs: 5 * 60_000 };
const MAX_SLEEP_MS = 24 * 3600_000;

/**
 * When to rotate, as the kubelet's certificate manager picks it: at a random
 * point between 70% and 90% of the certificate's lifetime, so a fleet issued
 * at once does not renew at once.
 */
export function rotationDeadline(validity: { notBefore: Date; notAfter: Date }, random: number): number {
  const from = validity.notBefore.getTime();
  return from + (validity.notAfter.getTime() - from) * (0.7 + 0.2 * random);
}

/**
 * Keeps one certificate current: asks for a new one (through `request`, as
 * the identity the certificate itself gives) when the old one is due,
 * stores it, and hands it to `rotated` (the API client, the kubelet API's
 * server), all without a restart. A failed request is retried with back-off
 * while the old certificate still works.
 */
export class CertificateManager {
  #store: CertificateStore;
  #request: (signal: AbortSignal) => Promise<KeyPair>;
  #rotated: (pair: KeyPair) => void;
  #log: Logger;
  #now: () => number;
  #random: () => number;

  constructor(o: {
    store: CertificateStore;
    request: (signal: AbortSignal) => Promise<KeyPair>;
    rotated: (pair: KeyPair) => void;
    log: Logger;
    now?: () => number;
    random?: () => number;
  }) {
    this.#store = o.store;
    this.#request = o.request;
    this.#rotated = o.rotated;
    this.#log = o.log;
    this.#now = o.now ?? Date.now;
    this.#random = o.random ?? Math.random;
  }

  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let deadline = 0;
    let deadlineOf: string | undefined;
    while (!signal.aborted) {
      const current = await this.#store.current();
      if (current?.cert !== deadlineOf) {
        deadlineOf = current?.cert;
        deadline = current ? rotationDeadline(await certificateValidity(current.cert), this.#random()) : this.#now();
      }
      const wait = deadline - this.#now();
      if (wait > 0) {
        // a timer holds at most 2^31 ms; a year-long certificate is waited for a day at a time
        await sleep(Math.min(wait, MAX_SLEEP_MS), signal);
        continue;
      }
      try {
        const pair = await this.#request(signal);
        await this.#store.save(pair);
        this.#rotated(pair);
        failures = 0;
        this.#log.info({ certificate: this.#store.prefix, notAfter: (await certificateValidity(pair.cert)).notAfter }, 'certificate rotated');
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        this.#log.warn({ certificate: this.#store.prefix, err: (err as Error).message }, 'certificate rotation failed; will retry');
        await sleep(backoffDelay(failures, RETRY), signal);
      }
    }
  }
}
