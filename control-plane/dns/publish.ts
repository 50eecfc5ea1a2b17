import { ENDPOINTSLICE_MANAGED_BY_LABEL, SERVICE_NAME_LABEL, ApiError, type RestClient } from '../../apimachinery/index.ts';

const NAMESPACE = 'kube-system';
const NAME = 'kube-dns';
const SLICES = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: NAMESPACE };

/** Creates the object, or updates the one already there (another server of the cluster may have made it). */
async function createOrReplace(
  client: RestClient,
  ref: { group?: string; version?: string; resource: string; namespace: string },
  name: string,
  body: { metadata: Record<string, unknown> } & Record<string, unknown>,
): Promise<void> {
  let current: { metadata: Record<string, unknown>; spec?: Record<string, unknown> } | undefined;
  try {
    current = await client.get({ ...ref, name });
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  if (!current) {
    try {
      await client.create(ref, body);
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      current = await client.get({ ...ref, name });
    }
  }
  const spec = body.spec as Record<string, unknown> | undefined;
  await client.update(
    { ...ref, name },
    { ...current, ...body, metadata: { ...current?.metadata, ...body.metadata }, ...(spec ? { spec: { ...current?.spec, ...spec } } : {}) },
  );
}

/**
 * The kube-dns Service (at its well-known ClusterIP) and the EndpointSlice
 * that points it at the DNS add-on of this server: selectorless, so the
 * EndpointSlice controller leaves the slice to us.
 */
export async function publishDnsService(client: RestClient, opts: { clusterIP: string; address: string; port: number }): Promise<void> {
  const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' };
  await createOrReplace(client, { resource: 'services', namespace: NAMESPACE }, NAME, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NAME, namespace: NAMESPACE, labels },
    spec: {
      clusterIP: opts.clusterIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: opts.port },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: opts.port },
      ],
    },
  });
  await createOrReplace(client, SLICES, `${NAME}-skiff`, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${NAME}-skiff`,
      namespace: NAMESPACE,
      labels: { [SERVICE_NAME_LABEL]: NAME, [ENDPOINTSLICE_MANAGED_BY_LABEL]: 'skiff-server' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [opts.address], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [
      { name: 'dns', port: opts.port, protocol: 'UDP' },
      { name: 'dns-tcp', port: opts.port, protocol: 'TCP' },
    ],
  });
}
