import { ApiError } from '../../apimachinery/index.ts';
import type { ApiServer } from './server.ts';
import type { ServiceIpRange } from './resources/services.ts';
import type { Obj } from './resource-info.ts';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
  }
}

/**
 * What every cluster has before its first request: the system namespaces
 * and the `kubernetes` Service. Also re-marks stored ClusterIPs as taken.
 */
export async function bootstrap(server: ApiServer, serviceIps: ServiceIpRange): Promise<void> {
  const services = server.registry('', 'services');
  for (const svc of (await services.list({})).items) {
    const ip = (svc.spec as { clusterIP?: string } | undefined)?.clusterIP;
    if (ip && ip !== 'None') serviceIps.markUsed(ip);
  }
  const namespaces = server.registry('', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(() => namespaces.create(undefined, { metadata: { name } }));
  }
  const kubernetes: Obj = {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: serviceIps.first, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  };
  if (!(await services.list({ namespace: 'default' })).items.some((s) => s.metadata.name === 'kubernetes')) {
    await ensure(() => services.create('default', kubernetes));
  }
}
