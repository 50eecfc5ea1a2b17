import type { Node } from 'kubernetes-types/core/v1.js';
import type { CSINode, CSINodeDriver } from 'kubernetes-types/storage/v1.js';
import { ApiError, type Logger, type RestClient } from '../../apimachinery/index.ts';
import type { CsiPlugin } from './plugins.ts';

/** The Node annotation mapping each registered CSI driver to its node id. */
export const NODE_ID_ANNOTATION = 'csi.volume.kubernetes.io/nodeid';

/** CSINode spec.drivers for the registered plugins, sorted by name. */
export function csiNodeDrivers(plugins: Iterable<CsiPlugin>): CSINodeDriver[] {
  return [...plugins]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      name: p.name,
      nodeID: p.nodeId,
      topologyKeys: Object.keys(p.topology?.segments ?? {}).sort(),
      ...(p.maxVolumesPerNode > 0 ? { allocatable: { count: p.maxVolumesPerNode } } : {}),
    }));
}

/**
 * Publishes what CSI drivers this node has, as the kubelet's node info
 * manager does: the CSINode object (owned by the Node) listing each driver
 * with its node id and topology keys, the nodeid annotation on the Node, and
 * the drivers' topology segments as Node labels (what PV node affinity and
 * the scheduler match against).
 */
export async function syncCsiNode(client: RestClient, nodeName: string, plugins: Iterable<CsiPlugin>, log: Logger): Promise<void> {
  const list = [...plugins];
  const drivers = csiNodeDrivers(list);
  const node = await client.get<Node>({ resource: 'nodes', name: nodeName });
  const annotation = Object.fromEntries(drivers.map((d) => [d.name, d.nodeID]));
  const labels = Object.assign({}, ...list.map((p) => p.topology?.segments ?? {})) as Record<string, string>;
  const current = node.metadata?.annotations?.[NODE_ID_ANNOTATION];
  const wantAnnotation = drivers.length ? JSON.stringify(annotation) : undefined;
  const missingLabels = Object.entries(labels).filter(([k, v]) => node.metadata?.labels?.[k] !== v);
  if (current !== wantAnnotation || missingLabels.length) {
    await client.patch(
      { resource: 'nodes', name: nodeName },
      { metadata: { annotations: { [NODE_ID_ANNOTATION]: wantAnnotation ?? null }, labels: Object.fromEntries(missingLabels) } },
      'merge',
    );
  }
  const ref = { group: 'storage.k8s.io', version: 'v1', resource: 'csinodes', name: nodeName };
  const body: CSINode = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSINode',
    metadata: { name: nodeName, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata?.uid ?? '' }] },
    spec: { drivers },
  };
  try {
    const existing = await client.get<CSINode>(ref);
    if (JSON.stringify(existing.spec?.drivers ?? []) === JSON.stringify(drivers)) return;
    await client.update(ref, { ...existing, spec: { drivers } });
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
    await client.create({ ...ref, name: undefined }, body);
  }
  log.info({ drivers: drivers.map((d) => d.name) }, 'CSINode updated');
}
