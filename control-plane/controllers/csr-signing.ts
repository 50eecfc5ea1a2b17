import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import {
  defineController,
  describeRequest,
  primary,
  rfc3339,
  signRequest,
  type Informer,
  type KeyPair,
  type RunnableController,
} from '../../apimachinery/index.ts';
import { SIGNERS, signerRefusal } from './csr-signers.ts';
import type { Controller, ControllerContext } from './context.ts';
import { CERTIFICATE_SIGNING_REQUESTS } from './shared-informers.ts';

/** kube-controller-manager's --cluster-signing-duration default: one year; requests may ask for less, down to 10 minutes. */
const MAX_SECONDS = 365 * 24 * 3600;
const MIN_SECONDS = 600;

const isTrue = (csr: CertificateSigningRequest, type: string) => csr.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

/**
 * Issues certificates for approved CertificateSigningRequests of the
 * built-in signers with the cluster CA (kube-controller-manager's csrsigning
 * controller): the request's subject and key, for expirationSeconds (10
 * minutes to a year), when it keeps its signer's rules (csr-signers.ts). A
 * request that cannot be signed gets the Failed condition.
 */
export class CsrSigningController implements Controller {
  readonly name = 'csrsigning';
  #ctx: ControllerContext;
  #ca: KeyPair;
  #maxSeconds: number;
  #loop: RunnableController;
  #requests: Informer<CertificateSigningRequest>;

  /** `maxSeconds`: the longest certificate issued (--cluster-signing-duration) */
  constructor(ctx: ControllerContext, o: { ca: KeyPair; maxSeconds?: number }) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#ca = o.ca;
    this.#maxSeconds = o.maxSeconds ?? MAX_SECONDS;
    this.#requests = ctx.informers.for<CertificateSigningRequest>(CERTIFICATE_SIGNING_REQUESTS);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      backoff: { baseDelayMs: 100, maxDelayMs: 60_000 },
      watches: [primary(this.#requests, ['add', 'update'])],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(name: string): Promise<void> {
    const csr = this.#requests.get(name);
    if (!csr || csr.status?.certificate || !isTrue(csr, 'Approved') || isTrue(csr, 'Denied') || isTrue(csr, 'Failed')) return;
    const signer = SIGNERS[csr.spec.signerName];
    if (!signer) return;
    const ref = { ...CERTIFICATE_SIGNING_REQUESTS, version: 'v1', name, subresource: 'status' };
    let status: CertificateSigningRequest['status'];
    try {
      const request = Buffer.from(csr.spec.request, 'base64').toString();
      const refusal = signerRefusal(csr.spec.signerName, await describeRequest(request), csr.spec.usages ?? []);
      if (refusal) throw new Error(refusal);
      // a request's own expirationSeconds counts from 10 minutes up; the signing duration caps it (and may be shorter)
      const seconds = Math.min(Math.max(csr.spec.expirationSeconds ?? this.#maxSeconds, MIN_SECONDS), this.#maxSeconds);
      const pem = await signRequest(this.#ca, request, {
        clientAuth: signer.required === 'client auth',
        serverAuth: signer.required === 'server auth',
        seconds,
      });
      status = { ...csr.status, certificate: Buffer.from(pem).toString('base64') };
      this.#ctx.log.info({ csr: name, signer: csr.spec.signerName }, 'issued certificate');
    } catch (err) {
      const now = rfc3339();
      status = {
        ...csr.status,
        conditions: [
          ...(csr.status?.conditions ?? []),
          { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: (err as Error).message, lastUpdateTime: now, lastTransitionTime: now },
        ],
      };
    }
    await this.#ctx.client.update(ref, { ...csr, status });
  }
}
