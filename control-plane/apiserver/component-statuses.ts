import { DEFAULT_LEADER_ELECTION, leaseLive } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';
import type { Obj, ResourceInfo, Strategy } from './resource-info.ts';

// v1 ComponentStatus (deprecated in Kubernetes, still served; the seeds'
// debug recipe runs `kubectl get componentstatuses`): the scheduler and the
// controller manager are healthy while their leader Lease is renewed within
// its duration, and the store (etcd-0, whichever backend) while it answers a read.

function status(name: string, healthy: boolean, error?: string): Obj {
  return {
    kind: 'ComponentStatus',
    apiVersion: 'v1',
    metadata: { name },
    conditions: [{ type: 'Healthy', status: healthy ? 'True' : 'False', message: healthy ? 'ok' : '', ...(error ? { error } : {}) }],
  } as Obj;
}

/** The statuses of the control plane's components, read from their leases and the store. */
export async function componentStatuses(leases: Registry): Promise<Obj[]> {
  const leader = async (component: string, lease: string) => {
    try {
      const held = (await leases.get('kube-system', lease)) as { spec?: { renewTime?: string; leaseDurationSeconds?: number } };
      return leaseLive(held.spec, Date.now(), DEFAULT_LEADER_ELECTION.leaseDurationMs / 1000)
        ? status(component, true)
        : status(component, false, `its lease was last renewed at ${held.spec?.renewTime ?? 'never'}`);
    } catch (err) {
      return status(component, false, (err as Error).message);
    }
  };
  const store = leases.list({ namespace: 'kube-system', limit: 1 }).then(
    () => status('etcd-0', true),
    (err: Error) => status('etcd-0', false, err.message),
  );
  return Promise.all([leader('controller-manager', 'kube-controller-manager'), leader('scheduler', 'kube-scheduler'), store]);
}

/** The table kubectl prints: NAME STATUS MESSAGE ERROR. */
const componentStatusStrategy: Strategy = {
  columns: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the component', priority: 0 },
    { name: 'Status', type: 'string', description: 'Status of the component conditions', priority: 0 },
    { name: 'Message', type: 'string', description: 'Message of the component conditions', priority: 0 },
    { name: 'Error', type: 'string', description: 'Error of the component conditions', priority: 0 },
  ],
  cells(obj) {
    const c = (obj as { conditions?: { status: string; message?: string; error?: string }[] }).conditions?.[0];
    return [obj.metadata.name, c?.status === 'True' ? 'Healthy' : 'Unhealthy', c?.message ?? '', c?.error ?? ''];
  },
};

/** What the catalog serves: get and list, nothing stored. */
export const COMPONENT_STATUSES: ResourceInfo = {
  group: '',
  version: 'v1',
  resource: 'componentstatuses',
  kind: 'ComponentStatus',
  singular: 'componentstatus',
  namespaced: false,
  shortNames: ['cs'],
  verbs: ['get', 'list'],
  virtual: true,
  strategy: componentStatusStrategy,
};
