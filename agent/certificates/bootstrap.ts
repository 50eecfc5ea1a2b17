import { certificateValidity, loadKubeconfig, pathExists, RestClient, writeKubeconfig, type ClientConfig, type Logger } from '../../apimachinery/index.ts';
import { requestCertificate, type CertificateAsk } from './request.ts';
import type { CertificateStore } from './store.ts';

/** What a node asks for as its client identity: system:node:<name> in system:nodes (the kubelet's usages for an ECDSA key). */
export function clientCertificateAsk(nodeName: string): CertificateAsk {
  return {
    signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    usages: ['digital signature', 'client auth'],
  };
}

/** What a node asks for to serve its kubelet API: its name and address, so the API server can check whom it calls. */
export function servingCertificateAsk(nodeName: string, addresses: string[]): CertificateAsk {
  return {
    signerName: 'kubernetes.io/kubelet-serving',
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    dnsNames: [nodeName],
    ipAddresses: addresses,
    usages: ['digital signature', 'server auth'],
  };
}

/**
 * The agent's credentials for the API server, as the kubelet's TLS bootstrap
 * makes them: the kubeconfig as it is while its certificate is valid;
 * otherwise, with the bootstrap kubeconfig (a join token), a client
 * certificate requested from the cluster, kept in the store and named by a
 * new kubeconfig that points at the store's current file.
 */
export async function bootstrapClientCredentials(o: {
  kubeconfig: string;
  bootstrapKubeconfig?: string;
  store: CertificateStore;
  nodeName: string;
  log: Logger;
  signal: AbortSignal;
}): Promise<ClientConfig> {
  if (await pathExists(o.kubeconfig)) {
    const cfg = await loadKubeconfig(o.kubeconfig);
    const valid = cfg.cert ? (await certificateValidity(cfg.cert)).notAfter.getTime() > Date.now() : !!cfg.token;
    if (valid || !o.bootstrapKubeconfig) return cfg;
    o.log.info({ kubeconfig: o.kubeconfig }, 'the client certificate has expired; bootstrapping a new one');
  }
  if (!o.bootstrapKubeconfig) throw new Error(`${o.kubeconfig} does not exist and no --bootstrap-kubeconfig was given`);
  const bootstrap = await loadKubeconfig(o.bootstrapKubeconfig);
  const client = new RestClient(bootstrap, { userAgent: `skiff-agent/${o.nodeName} (bootstrap)` });
  try {
    o.log.info({ server: bootstrap.server }, 'requesting a client certificate (TLS bootstrap)');
    const pair = await requestCertificate(client, clientCertificateAsk(o.nodeName), o.signal);
    await o.store.save(pair);
  } finally {
    client.close();
  }
  await writeKubeconfig(
    o.kubeconfig,
    { server: bootstrap.server, ca: bootstrap.ca },
    { user: 'default-auth', clientCertificateFile: o.store.currentPath, clientKeyFile: o.store.currentPath },
  );
  o.log.info({ kubeconfig: o.kubeconfig }, 'client certificate issued; kubeconfig written');
  return loadKubeconfig(o.kubeconfig);
}
