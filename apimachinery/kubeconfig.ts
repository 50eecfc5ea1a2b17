import { readFile, writeFile } from 'node:fs/promises';
import { resolve, dirname } from 'node:path';
import YAML from 'yaml';

/** Where and as whom a client talks to the API server (PEM material inline). */
export interface ClientConfig {
  server: string;
  ca: string;
  cert?: string;
  key?: string;
  token?: string;
}

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  users?: {
    name: string;
    user: { 'client-certificate-data'?: string; 'client-key-data'?: string; 'client-certificate'?: string; 'client-key'?: string; token?: string };
  }[];
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

/** How a kubeconfig names its cluster and user; the client certificate and key may be files it points at (a rotating pair) instead of inline data. */
export interface KubeconfigNames {
  cluster?: string;
  user: string;
  clientCertificateFile?: string;
  clientKeyFile?: string;
}

export function renderKubeconfig(cfg: ClientConfig, opts: KubeconfigNames): string {
  const cluster = opts.cluster ?? 'skiff';
  const doc: KubeconfigFile = {
    clusters: [{ name: cluster, cluster: { server: cfg.server, 'certificate-authority-data': b64(cfg.ca) } }],
    users: [
      {
        name: opts.user,
        user: {
          ...(opts.clientCertificateFile ? { 'client-certificate': opts.clientCertificateFile } : cfg.cert ? { 'client-certificate-data': b64(cfg.cert) } : {}),
          ...(opts.clientKeyFile ? { 'client-key': opts.clientKeyFile } : cfg.key ? { 'client-key-data': b64(cfg.key) } : {}),
          ...(cfg.token ? { token: cfg.token } : {}),
        },
      },
    ],
    contexts: [{ name: `${opts.user}@${cluster}`, context: { cluster, user: opts.user } }],
    'current-context': `${opts.user}@${cluster}`,
  };
  return YAML.stringify({ apiVersion: 'v1', kind: 'Config', preferences: {}, ...doc });
}

export async function writeKubeconfig(path: string, cfg: ClientConfig, opts: KubeconfigNames): Promise<void> {
  await writeFile(path, renderKubeconfig(cfg, opts), { mode: 0o600 });
}

/** Reads a kubeconfig's current context into a ClientConfig. */
export async function loadKubeconfig(path: string): Promise<ClientConfig> {
  const doc = YAML.parse(await readFile(path, 'utf8')) as KubeconfigFile;
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context ?? doc.contexts?.[0]?.context;
  if (!ctx) throw new Error(`${path}: no context`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx.user)?.user;
  if (!cluster) throw new Error(`${path}: cluster ${ctx.cluster} not found`);
  const base = dirname(path);
  const material = async (data: string | undefined, file: string | undefined) =>
    data ? unb64(data) : file ? await readFile(resolve(base, file), 'utf8') : undefined;
  const ca = await material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (!ca) throw new Error(`${path}: the cluster has no certificate authority`);
  return {
    server: cluster.server,
    ca,
    cert: await material(user?.['client-certificate-data'], user?.['client-certificate']),
    key: await material(user?.['client-key-data'], user?.['client-key']),
    token: user?.token,
  };
}
