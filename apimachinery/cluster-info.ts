import { request as httpsRequest } from 'node:https';
import YAML from 'yaml';
import { BOOTSTRAP_TOKEN, type BootstrapToken } from './bootstrap-token.ts';
import { caCertHash } from './pki.ts';

/** kube-public/cluster-info: the cluster's address and CA for anyone to read, signed per token so a joining node can trust it. */
export const CLUSTER_INFO = { namespace: 'kube-public', name: 'cluster-info' } as const;
export const KUBECONFIG_KEY = 'kubeconfig';
export const JWS_KEY_PREFIX = 'jws-kubeconfig-';

/** The kubeconfig cluster-info publishes: one cluster (server and CA), no user, as kubeadm writes it. */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: '', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    contexts: [],
    'current-context': '',
    preferences: {},
    users: [],
  });
}

/** The server and CA a cluster-info kubeconfig names. */
export function readClusterInfoKubeconfig(text: string): { server: string; ca: string } {
  const doc = YAML.parse(text) as { clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[] };
  const cluster = doc?.clusters?.[0]?.cluster;
  if (!cluster?.server || !cluster['certificate-authority-data']) throw new Error('the cluster-info kubeconfig names no server and CA');
  return { server: cluster.server, ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString() };
}

const secretKey = (t: Pick<BootstrapToken, 'secret'>) => new TextEncoder().encode(t.secret);

/** A detached JWS (HS256, keyed by the token's secret, its id as kid) over the kubeconfig, as the bootstrap signer writes it. */
export async function signKubeconfig(kubeconfig: string, token: Pick<BootstrapToken, 'id' | 'secret'>): Promise<string> {
  // jose loads on first use: only the controller manager and a joining host sign or verify
  const { CompactSign } = await import('jose');
  const jws = await new CompactSign(new TextEncoder().encode(kubeconfig)).setProtectedHeader({ alg: 'HS256', kid: token.id }).sign(secretKey(token));
  const [header, , signature] = jws.split('.');
  return `${header}..${signature}`;
}

/** Whether a detached JWS is this token's signature over the kubeconfig. */
export async function verifyKubeconfig(kubeconfig: string, detached: string, token: Pick<BootstrapToken, 'id' | 'secret'>): Promise<boolean> {
  const [header, empty, signature] = detached.split('.');
  if (!header || empty !== '' || !signature) return false;
  const { compactVerify } = await import('jose');
  try {
    const { protectedHeader } = await compactVerify(`${header}.${Buffer.from(kubeconfig).toString('base64url')}.${signature}`, secretKey(token), {
      algorithms: ['HS256'],
    });
    return protectedHeader.kid === token.id;
  } catch {
    // a signature that does not verify is the answer, not an error
    return false;
  }
}

/** GET of cluster-info over TLS, anonymous; `ca` none: the server is not trusted yet (what the answer says is checked after). */
function fetchClusterInfo(server: string, ca: string | undefined): Promise<{ data?: Record<string, string> }> {
  const url = new URL(`/api/v1/namespaces/${CLUSTER_INFO.namespace}/configmaps/${CLUSTER_INFO.name}`, server);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, rejectUnauthorized: !!ca, timeout: 10_000, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => {
        if (res.statusCode === 200) return resolve(JSON.parse(body) as { data?: Record<string, string> });
        reject(new Error(`${url.origin} answered ${res.statusCode} for the cluster-info ConfigMap: ${body.slice(0, 200)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url.origin} did not answer within 10s`)));
    req.on('error', (err) => reject(new Error(`cannot reach the server at ${url.origin}: ${err.message}`)));
    req.end();
  });
}

/**
 * Token discovery, as kubeadm join does it: cluster-info is read without
 * trusting the server yet; it must carry this token's signature over its
 * kubeconfig (proof the server knows the token) and, with `caCertHashes`,
 * a CA whose public key is one of them (proof it is the cluster meant).
 * Then it is read again over TLS verified by that CA. Returns the cluster's
 * address and CA; throws with one clear sentence otherwise.
 */
export async function discoverCluster(o: { server: string; token: string; caCertHashes: string[]; waitMs?: number }): Promise<{ server: string; ca: string }> {
  const m = BOOTSTRAP_TOKEN.exec(o.token);
  if (!m) throw new Error('the token must look like [a-z0-9]{6}.[a-z0-9]{16}');
  const token = { id: m[1] as string, secret: m[2] as string };
  // a token made a moment ago is signed within a second or so: wait that long for its signature, not longer
  const deadline = Date.now() + (o.waitMs ?? 10_000);
  let insecure = await fetchClusterInfo(o.server, undefined);
  while (!insecure.data?.[`${JWS_KEY_PREFIX}${token.id}`] && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    insecure = await fetchClusterInfo(o.server, undefined);
  }
  const kubeconfig = insecure.data?.[KUBECONFIG_KEY];
  if (!kubeconfig) throw new Error('the cluster-info ConfigMap holds no kubeconfig');
  const signature = insecure.data?.[`${JWS_KEY_PREFIX}${token.id}`];
  if (!signature) throw new Error(`token id "${token.id}" is not known to this cluster (no signature of it in cluster-info): wrong, expired or deleted token`);
  if (!(await verifyKubeconfig(kubeconfig, signature, token)))
    throw new Error('the cluster-info signature does not verify with this token: wrong token secret');
  const cluster = readClusterInfoKubeconfig(kubeconfig);
  if (o.caCertHashes.length) {
    const hash = await caCertHash(cluster.ca);
    if (!o.caCertHashes.includes(hash)) throw new Error(`the cluster's CA does not match --ca-cert-hash: its hash is ${hash}`);
  }
  const verified = await fetchClusterInfo(o.server, cluster.ca);
  if (verified.data?.[KUBECONFIG_KEY] !== kubeconfig) throw new Error('cluster-info changed between the untrusted and the trusted read; try again');
  return { server: o.server, ca: cluster.ca };
}
