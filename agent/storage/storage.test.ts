import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { describe, expect, it } from 'vitest';
import { csiAccessMode } from './csi-volumes.ts';
import { csiNodeDrivers } from './csi-node.ts';
import type { CsiPlugin } from './plugins.ts';
import { createVolumeRequest, provisionedVolume } from './provisioner.ts';
import { volumeOnNode } from './topology.ts';

const plugin = (over: Partial<CsiPlugin> = {}): CsiPlugin => ({
  name: 'csi.skiff.dev',
  endpoint: '/x.sock',
  client: {} as CsiPlugin['client'],
  nodeId: 'node-a',
  maxVolumesPerNode: 0,
  topology: { segments: { 'topology.csi.skiff.dev/node': 'node-a' } },
  nodeCapabilities: new Set(['STAGE_UNSTAGE_VOLUME']),
  controllerCapabilities: new Set(['CREATE_DELETE_VOLUME']),
  socket: '/reg.sock',
  ...over,
});

const claim: PersistentVolumeClaim = {
  metadata: { name: 'data', namespace: 'ns', uid: 'u-1', resourceVersion: '7' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' }, limits: { storage: '128Mi' } }, storageClassName: 'local' },
};
const cls: StorageClass = {
  metadata: { name: 'local' },
  provisioner: 'csi.skiff.dev',
  reclaimPolicy: 'Retain',
  parameters: { backend: 'loop', 'csi.storage.k8s.io/fstype': 'xfs' },
  mountOptions: ['noatime'],
};

describe('CSI access modes for Kubernetes ones', () => {
  it('maps as the kubelet does, using the single-node multi-writer mode when the driver offers it', () => {
    expect(csiAccessMode(['ReadWriteOnce'], plugin())).toBe('SINGLE_NODE_WRITER');
    expect(csiAccessMode(['ReadWriteOnce'], plugin({ nodeCapabilities: new Set(['SINGLE_NODE_MULTI_WRITER']) }))).toBe('SINGLE_NODE_MULTI_WRITER');
    expect(csiAccessMode(['ReadWriteOncePod'], plugin({ nodeCapabilities: new Set(['SINGLE_NODE_MULTI_WRITER']) }))).toBe('SINGLE_NODE_SINGLE_WRITER');
    expect(csiAccessMode(['ReadOnlyMany'], plugin())).toBe('MULTI_NODE_READER_ONLY');
    expect(csiAccessMode(['ReadWriteMany', 'ReadOnlyMany'], plugin())).toBe('MULTI_NODE_MULTI_WRITER');
  });
});

describe('provisioning a claim', () => {
  it("asks the driver for the claim's size range, fs type and parameters (minus the provisioner's own) on this node", () => {
    const req = createVolumeRequest(claim, cls, plugin());
    expect(req).toMatchObject({
      name: 'pvc-u-1',
      capacityRange: { requiredBytes: 64 * 1024 * 1024, limitBytes: 128 * 1024 * 1024 },
      volumeCapabilities: [{ mount: { fsType: 'xfs', mountFlags: ['noatime'] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } }],
      parameters: { backend: 'loop' },
      accessibilityRequirements: { requisite: [{ segments: { 'topology.csi.skiff.dev/node': 'node-a' } }] },
    });
  });

  it("makes a PV pre-bound to the claim, pinned to the volume's topology, with the class's policy", () => {
    const pv = provisionedVolume(
      claim,
      cls,
      plugin(),
      {
        volumeId: 'pvc-u-1',
        capacityBytes: 64 * 1024 * 1024,
        volumeContext: { backend: 'loop' },
        accessibleTopology: [{ segments: { 'topology.csi.skiff.dev/node': 'node-a' } }],
      },
      'xfs',
    );
    expect(pv.metadata?.name).toBe('pvc-u-1');
    expect(pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by']).toBe('csi.skiff.dev');
    expect(pv.spec).toMatchObject({
      capacity: { storage: '64Mi' },
      claimRef: { namespace: 'ns', name: 'data', uid: 'u-1' },
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'local',
      mountOptions: ['noatime'],
      csi: { driver: 'csi.skiff.dev', volumeHandle: 'pvc-u-1', fsType: 'xfs' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.csi.skiff.dev/node', operator: 'In', values: ['node-a'] }] }] } },
    });
    expect(volumeOnNode(pv, plugin())).toBe(true);
    expect(volumeOnNode(pv, plugin({ topology: { segments: { 'topology.csi.skiff.dev/node': 'node-b' } } }))).toBe(false);
  });
});

describe('CSINode drivers', () => {
  it('lists each registered driver with its node id, topology keys and volume limit', () => {
    const drivers = csiNodeDrivers([plugin({ name: 'z.example.com', maxVolumesPerNode: 16, topology: undefined }), plugin()]);
    expect(drivers).toEqual([
      { name: 'csi.skiff.dev', nodeID: 'node-a', topologyKeys: ['topology.csi.skiff.dev/node'] },
      { name: 'z.example.com', nodeID: 'node-a', topologyKeys: [], allocatable: { count: 16 } },
    ]);
  });
});
