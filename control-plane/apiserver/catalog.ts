import type { ResourceInfo } from './resource-info.ts';
import { eventStrategy } from './resources/events.ts';
import { namespaceStrategy } from './resources/namespaces.ts';
import { nodeStrategy } from './resources/nodes.ts';
import { podStrategy } from './resources/pods.ts';
import { serviceStrategy, type ServiceIpRange } from './resources/services.ts';

/** Every resource this server serves; adding a plain resource is one entry here. */
export function resourceCatalog(serviceIps: ServiceIpRange): ResourceInfo[] {
  return [
    { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', singular: 'namespace', namespaced: false, shortNames: ['ns'], subresources: ['status'], strategy: namespaceStrategy },
    { group: '', version: 'v1', resource: 'pods', kind: 'Pod', singular: 'pod', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'log'], strategy: podStrategy },
    { group: '', version: 'v1', resource: 'nodes', kind: 'Node', singular: 'node', namespaced: false, shortNames: ['no'], subresources: ['status'], strategy: nodeStrategy },
    { group: '', version: 'v1', resource: 'events', kind: 'Event', singular: 'event', namespaced: true, shortNames: ['ev'], strategy: eventStrategy },
    { group: '', version: 'v1', resource: 'services', kind: 'Service', singular: 'service', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'], strategy: serviceStrategy(serviceIps) },
    { group: '', version: 'v1', resource: 'endpoints', kind: 'Endpoints', singular: 'endpoints', namespaced: true, shortNames: ['ep'] },
    { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', singular: 'configmap', namespaced: true, shortNames: ['cm'] },
    { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', singular: 'secret', namespaced: true },
    { group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', singular: 'serviceaccount', namespaced: true, shortNames: ['sa'] },
    { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', singular: 'lease', namespaced: true },
  ];
}
