import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { CSINode, StorageClass } from 'kubernetes-types/storage/v1.js';
import { describe, expect, it } from 'vitest';
import { SchedulerCache } from '../cache.ts';
import { cycleState, findFeasibleNodes } from '../scheduler.ts';
import { REASONS, VOLUME_BINDING, podVolumes, volumeBinding, type StorageLookup } from './volume-binding.ts';

const KEY = 'topology.csi.skiff.dev/node';
const node = (name: string): Node => ({
  metadata: { name, labels: { [KEY]: name } },
  status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pod = (...claims: string[]): Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'p' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })) },
});
const claim = (name: string, cls: string, volumeName?: string): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'ns', uid: name },
  spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName },
});
const pinned = (name: string, to: string): PersistentVolume => ({
  metadata: { name },
  spec: {
    capacity: { storage: '1Gi' },
    accessModes: ['ReadWriteOnce'],
    storageClassName: 'static',
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: KEY, operator: 'In', values: [to] }] }] } },
  },
  status: { phase: 'Available' },
});

function lookup(o: { claims?: PersistentVolumeClaim[]; volumes?: PersistentVolume[]; classes?: StorageClass[]; csiNodes?: CSINode[] }): StorageLookup {
  return {
    claim: (ns, name) => o.claims?.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    volume: (name) => o.volumes?.find((v) => v.metadata?.name === name),
    volumes: () => o.volumes ?? [],
    storageClass: (name) => o.classes?.find((c) => c.metadata?.name === name),
    csiNode: (name) => o.csiNodes?.find((n) => n.metadata?.name === name),
    csiDriverOnSomeNode: (d) => (o.csiNodes ?? []).some((n) => n.spec?.drivers?.some((x) => x.name === d)),
  };
}

/** The nodes the VolumeBinding filter lets the pod onto, or the reasons it gives. */
function feasible(p: Pod, storage: StorageLookup, nodes = ['a', 'b']): string[] {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.setNode(node(n));
  const state = cycleState(p, cache);
  const volumes = podVolumes(p, storage);
  if (volumes) state.data.set(VOLUME_BINDING, { volumes, storage });
  const r = findFeasibleNodes(
    state,
    [volumeBinding].filter((f) => f.preFilter?.(state) !== 'skip'),
    [...cache.nodes.values()],
    0,
  );
  return r.feasible.length ? r.feasible.map((n) => n.name) : [...new Set(r.rejected.map((x) => x.rejection.reason))];
}

const wffc = (name: string, provisioner: string): StorageClass => ({ metadata: { name }, provisioner, volumeBindingMode: 'WaitForFirstConsumer' });
const immediate = (name: string): StorageClass => ({ metadata: { name }, provisioner: 'csi.skiff.dev', volumeBindingMode: 'Immediate' });
const csiNode = (name: string, driver: string): CSINode => ({ metadata: { name }, spec: { drivers: [{ name: driver, nodeID: name }] } });

describe('VolumeBinding', () => {
  it('lets pods without claims anywhere', () => {
    expect(feasible({ ...pod(), spec: { containers: [{ name: 'c' }] } }, lookup({}))).toEqual(['a', 'b']);
  });

  it('refuses every node for a missing claim or an unbound Immediate one', () => {
    expect(feasible(pod('gone'), lookup({}))).toEqual(['persistentvolumeclaim "gone" not found']);
    expect(feasible(pod('c'), lookup({ claims: [claim('c', 'now')], classes: [immediate('now')] }))).toEqual([REASONS.unboundImmediate]);
  });

  it('sends a pod to where its bound volume is', () => {
    expect(feasible(pod('c'), lookup({ claims: [claim('c', 'static', 'pv-b')], volumes: [pinned('pv-b', 'b')] }))).toEqual(['b']);
    expect(feasible(pod('c'), lookup({ claims: [claim('c', 'static', 'pv-b')], volumes: [pinned('pv-b', 'b')] }), ['a'])).toEqual([REASONS.nodeConflict]);
  });

  it('puts a WaitForFirstConsumer claim of a node-local CSI driver only on nodes that run the driver', () => {
    const s = lookup({
      claims: [claim('c', 'local')],
      classes: [wffc('local', 'csi.skiff.dev')],
      csiNodes: [csiNode('b', 'csi.skiff.dev'), { metadata: { name: 'a' }, spec: { drivers: [] } }],
    });
    expect(feasible(pod('c'), s)).toEqual(['b']);
    // a provisioner no node runs (an external one) does not restrict
    expect(feasible(pod('c'), lookup({ claims: [claim('c', 'ext')], classes: [wffc('ext', 'example.com/nfs')] }))).toEqual(['a', 'b']);
  });

  it('binds a WaitForFirstConsumer claim to a free volume only where that volume can be used', () => {
    const s = lookup({ claims: [claim('c', 'static')], classes: [wffc('static', 'kubernetes.io/no-provisioner')], volumes: [pinned('pv-a', 'a')] });
    expect(podVolumes(pod('c'), s)?.toBind).toHaveLength(1);
    expect(feasible(pod('c'), s)).toEqual(['a']);
    expect(feasible(pod('c'), lookup({ claims: [claim('c', 'static')], classes: [wffc('static', 'kubernetes.io/no-provisioner')] }))).toEqual([
      REASONS.bindConflict,
    ]);
  });
});
