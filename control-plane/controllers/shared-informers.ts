import { Informer, type KubeObject, type Logger, type RestClient } from '../../apimachinery/index.ts';
import { OwnerIndex } from './owner-index.ts';

export interface ResourceType {
  group?: string;
  version?: string;
  resource: string;
  /** watch only the objects this selects (`metadata.name=default`) */
  fieldSelector?: string;
}

const informerKey = (t: ResourceType) => `${t.group ?? ''}/${t.resource}${t.fieldSelector ? `?${t.fieldSelector}` : ''}`;

/**
 * One list+watch per resource, shared by every controller that asks for it
 * (as client-go's shared informer factory): pods are watched once however
 * many controllers look at them.
 */
export class SharedInformers {
  #client: RestClient;
  #log: Logger;
  #informers = new Map<string, Informer<KubeObject>>();
  #ownerIndexes = new Map<string, OwnerIndex<KubeObject>>();
  #signal: AbortSignal | undefined;

  constructor(client: RestClient, log: Logger) {
    this.#client = client;
    this.#log = log;
  }

  for<T extends KubeObject>(type: ResourceType): Informer<T> {
    const key = informerKey(type);
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new Informer<KubeObject>(
        this.#client,
        { group: type.group, version: type.version ?? 'v1', resource: type.resource },
        { fieldSelector: type.fieldSelector, log: this.#log },
      );
      this.#informers.set(key, informer);
      if (this.#signal) void informer.run(this.#signal);
    }
    return informer as unknown as Informer<T>;
  }

  /** The owner index over one resource, shared like its informer. */
  ownerIndex<T extends KubeObject>(type: ResourceType): OwnerIndex<T> {
    const key = informerKey(type);
    let index = this.#ownerIndexes.get(key);
    if (!index) this.#ownerIndexes.set(key, (index = new OwnerIndex(this.for(type))));
    return index as unknown as OwnerIndex<T>;
  }

  /** Starts every informer asked for so far (and any asked for later); resolves when all have listed. */
  async start(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    for (const informer of this.#informers.values()) void informer.run(signal);
    await Promise.all([...this.#informers.values()].map((i) => i.hasSynced()));
  }
}

/** The resources the controllers watch. */
export const PODS: ResourceType = { resource: 'pods' };
export const REPLICA_SETS: ResourceType = { group: 'apps', resource: 'replicasets' };
export const REPLICATION_CONTROLLERS: ResourceType = { resource: 'replicationcontrollers' };
export const HORIZONTAL_POD_AUTOSCALERS: ResourceType = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };
export const DEPLOYMENTS: ResourceType = { group: 'apps', resource: 'deployments' };
export const JOBS: ResourceType = { group: 'batch', resource: 'jobs' };
export const CRON_JOBS: ResourceType = { group: 'batch', resource: 'cronjobs' };
export const NAMESPACES: ResourceType = { resource: 'namespaces' };
export const CERTIFICATE_SIGNING_REQUESTS: ResourceType = { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' };
export const POD_DISRUPTION_BUDGETS: ResourceType = { group: 'policy', resource: 'poddisruptionbudgets' };
export const RESOURCE_QUOTAS: ResourceType = { resource: 'resourcequotas' };
export const DAEMON_SETS: ResourceType = { group: 'apps', resource: 'daemonsets' };
export const STATEFUL_SETS: ResourceType = { group: 'apps', resource: 'statefulsets' };
export const CONTROLLER_REVISIONS: ResourceType = { group: 'apps', resource: 'controllerrevisions' };
export const PERSISTENT_VOLUME_CLAIMS: ResourceType = { resource: 'persistentvolumeclaims' };
export const PERSISTENT_VOLUMES: ResourceType = { resource: 'persistentvolumes' };
export const STORAGE_CLASSES: ResourceType = { group: 'storage.k8s.io', resource: 'storageclasses' };
export const NODES: ResourceType = { resource: 'nodes' };
export const NODE_LEASES: ResourceType = { group: 'coordination.k8s.io', resource: 'leases' };
export const SERVICES: ResourceType = { resource: 'services' };
export const ENDPOINTS: ResourceType = { resource: 'endpoints' };
export const CLUSTER_ROLES: ResourceType = { group: 'rbac.authorization.k8s.io', resource: 'clusterroles' };
export const ENDPOINT_SLICES: ResourceType = { group: 'discovery.k8s.io', resource: 'endpointslices' };
export const VALIDATING_ADMISSION_POLICIES: ResourceType = { group: 'admissionregistration.k8s.io', resource: 'validatingadmissionpolicies' };
