import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { createCA, issueCert, pathExists, type KeyPair } from '../apimachinery/index.ts';
import { COMPONENT_USERS } from './auth/index.ts';

export interface ClusterPki {
  ca: KeyPair;
  apiserver: KeyPair;
  /** the API server's client certificate towards kubelet APIs (logs) */
  kubeletClient: KeyPair;
  /** the scheduler's, the controller manager's and the DNS add-on's identities: each bound to its own role, none a superuser */
  scheduler: KeyPair;
  controllerManager: KeyPair;
  clusterDns: KeyPair;
  /**
   * The aggregation layer's: a CA of its own (extension API servers trust
   * whatever it signs to say who the user is, so the cluster CA, which signs
   * what the CSR API approves, must not be it) and the API server's client
   * certificate under it (front-proxy-client), sent to extension API servers.
   */
  frontProxyCa: KeyPair;
  frontProxyClient: KeyPair;
}

/** The name extension API servers accept the aggregation layer's client certificate under (requestheader-allowed-names). */
export const FRONT_PROXY_CLIENT = 'front-proxy-client';

/**
 * The pair stored under `name`, made and stored when missing, or when
 * `stale` says the stored certificate is one an older version made with
 * rights it must no longer have.
 */
async function loadOrIssue(dir: string, name: string, make: () => Promise<KeyPair>, stale: (cert: X509Certificate) => boolean = () => false): Promise<KeyPair> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  if ((await pathExists(certPath)) && (await pathExists(keyPath))) {
    const stored = { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
    if (!stale(new X509Certificate(stored.cert))) return stored;
  }
  const kp = await make();
  await writeFile(keyPath, kp.key, { mode: 0o600 });
  await writeFile(certPath, kp.cert, { mode: 0o644 });
  return kp;
}

/**
 * The cluster's certificates, generated on first start and reused after:
 * the CA, the API server's serving certificate (for `sans`), and the client
 * certificates the control plane itself uses.
 */
export async function ensureClusterPki(dir: string, sans: { dnsNames: string[]; ipAddresses: string[] }): Promise<ClusterPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await loadOrIssue(dir, 'ca', () => createCA('skiff-ca'));
  const apiserver = await loadOrIssue(dir, 'apiserver', () =>
    issueCert(ca, { commonName: 'kube-apiserver', usage: 'server', dnsNames: sans.dnsNames, ipAddresses: sans.ipAddresses }),
  );
  // kubelets ask the API server whether this identity may act (it is bound to system:kubelet-api-admin): not a superuser
  const kubeletClient = await loadOrIssue(
    dir,
    'apiserver-kubelet-client',
    () => issueCert(ca, { commonName: COMPONENT_USERS.kubeletClient, usage: 'client' }),
    (cert) => /\bO=system:masters\b/.test(cert.subject),
  );
  const client = (commonName: string) => () => issueCert(ca, { commonName, usage: 'client' });
  const scheduler = await loadOrIssue(dir, 'scheduler', client(COMPONENT_USERS.scheduler));
  const controllerManager = await loadOrIssue(dir, 'controller-manager', client(COMPONENT_USERS.controllerManager));
  const clusterDns = await loadOrIssue(dir, 'cluster-dns', client(COMPONENT_USERS.clusterDns));
  const frontProxyCa = await loadOrIssue(dir, 'front-proxy-ca', () => createCA('skiff-front-proxy-ca'));
  const frontProxyClient = await loadOrIssue(dir, 'front-proxy-client', () => issueCert(frontProxyCa, { commonName: FRONT_PROXY_CLIENT, usage: 'client' }));
  return { ca, apiserver, kubeletClient, scheduler, controllerManager, clusterDns, frontProxyCa, frontProxyClient };
}

/** Issues a client certificate from the cluster CA found in `dir` (admin, agents on this host). */
export async function issueFromClusterCa(dir: string, req: Parameters<typeof issueCert>[1]): Promise<{ ca: string; pair: KeyPair }> {
  const ca = { cert: await readFile(join(dir, 'ca.crt'), 'utf8'), key: await readFile(join(dir, 'ca.key'), 'utf8') };
  return { ca: ca.cert, pair: await issueCert(ca, req) };
}
