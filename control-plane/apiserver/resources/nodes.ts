import type { Node } from 'kubernetes-types/core/v1.js';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { AGE_COLUMN } from './columns.ts';

const asNode = (o: Obj) => o as unknown as Node;

/** STATUS as `kubectl get nodes` shows it: Ready / NotReady / Unknown, plus SchedulingDisabled. */
export function nodeDisplayStatus(node: Node): string {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function roles(node: Node): string {
  const r = Object.keys(node.metadata?.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return r.length ? r.sort().join(',') : '<none>';
}

export const nodeStrategy: Strategy = {
  defaults(obj) {
    obj.spec ??= {};
  },
  selectableFields: ['spec.unschedulable'],
  columns: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique.', priority: 0 },
    { name: 'Status', type: 'string', description: 'The status of the node', priority: 0 },
    { name: 'Roles', type: 'string', description: 'The roles of the node', priority: 0 },
    AGE_COLUMN,
    { name: 'Version', type: 'string', description: 'Kubelet Version reported by the node.', priority: 0 },
    { name: 'Internal-IP', type: 'string', description: 'List of addresses reachable to the node. Queried from cloud provider, if available.', priority: 1 },
    { name: 'External-IP', type: 'string', description: 'List of addresses reachable to the node. Queried from cloud provider, if available.', priority: 1 },
    { name: 'OS-Image', type: 'string', description: 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', priority: 1 },
    { name: 'Kernel-Version', type: 'string', description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority: 1 },
    {
      name: 'Container-Runtime',
      type: 'string',
      description: 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      priority: 1,
    },
  ],
  cells(obj) {
    const node = asNode(obj);
    const addr = (type: string) => node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
    const info = node.status?.nodeInfo;
    return [
      obj.metadata.name,
      nodeDisplayStatus(node),
      roles(node),
      age(obj.metadata.creationTimestamp),
      info?.kubeletVersion ?? '',
      addr('InternalIP'),
      addr('ExternalIP'),
      info?.osImage ?? '<unknown>',
      info?.kernelVersion ?? '<unknown>',
      info?.containerRuntimeVersion ?? '<unknown>',
    ];
  },
};
