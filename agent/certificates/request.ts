import { createHash, randomBytes } from 'node:crypto';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { ApiError, backoffDelay, createCertificateRequest, sleep, type KeyPair, type RestClient } from '../../apimachinery/index.ts';

const CSRS = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' } as const;
const POLL_MS = 500;
/** how long a request may wait for approval and a certificate (the kubelet waits 15 minutes for its bootstrap one) */
const WAIT_MS = 15 * 60_000;
/** how a call is retried while the API server is away */
const RETRY = { initialMs: 500, maxMs: 5_000 };

export interface CertificateAsk {
  signerName: 'kubernetes.io/kube-apiserver-client-kubelet' | 'kubernetes.io/kubelet-serving';
  commonName: string;
  organizations: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usages: string[];
}

/**
 * Runs `call` until the API server answers it: a refused connection, a
 * 5xx or a 429 (a server restarting, say) is retried with back-off until the
 * deadline; what the server says no to is thrown at once.
 */
async function answered<T>(call: () => Promise<T>, deadline: number, signal: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const refused = err instanceof ApiError && err.code < 500 && err.code !== 429;
      if (refused || signal.aborted || Date.now() > deadline) throw err;
      await sleep(backoffDelay(attempt, RETRY), signal);
    }
  }
}

/**
 * Asks the cluster for a certificate as the kubelet does: a fresh key, a
 * CertificateSigningRequest named after it, then a wait until the signer has
 * issued it (after approval) or the request is denied or fails, which ends
 * the wait with the request's own reason. An API server that goes away
 * meanwhile is waited for.
 */
export async function requestCertificate(client: RestClient, ask: CertificateAsk, signal: AbortSignal): Promise<KeyPair> {
  const { request, key } = await createCertificateRequest(ask);
  const name = `node-csr-${createHash('sha256').update(request).update(randomBytes(8)).digest('hex').slice(0, 32)}`;
  const deadline = Date.now() + WAIT_MS;
  const made = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(request).toString('base64'), signerName: ask.signerName, usages: ask.usages },
  };
  await answered(
    () =>
      client.create(CSRS, made).catch((err: unknown) => {
        // made by an earlier try whose answer was lost
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      }),
    deadline,
    signal,
  );
  while (!signal.aborted) {
    const csr = await answered(() => client.get<CertificateSigningRequest>({ ...CSRS, name }), deadline, signal);
    const refused = (csr.status?.conditions ?? []).find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
    if (refused)
      throw new Error(
        `certificate request ${name} ${refused.type === 'Denied' ? 'denied' : 'failed'}: ${refused.reason ?? ''} ${refused.message ?? ''}`.trim(),
      );
    if (csr.status?.certificate) return { cert: Buffer.from(csr.status.certificate, 'base64').toString(), key };
    if (Date.now() > deadline) throw new Error(`certificate request ${name} was not approved and issued within ${WAIT_MS / 60_000} minutes`);
    await sleep(POLL_MS, signal);
  }
  throw new Error('stopped while waiting for a certificate');
}
