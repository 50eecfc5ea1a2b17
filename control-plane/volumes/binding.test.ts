import type { Node, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { findMatchingVolume, volumeFitsNode, volumeSatisfies } from './binding.ts';

const claim = (over: Partial<NonNullable<PersistentVolumeClaim['spec']>> = {}, name = 'c'): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}` },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual', ...over },
});
const volume = (
  name: string,
  size: string,
  over: Partial<NonNullable<PersistentVolume['spec']>> = {},
  labels: Record<string, string> = {},
): PersistentVolume => ({
  metadata: { name, labels },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], storageClassName: 'manual', ...over },
  status: { phase: 'Available' },
});
const node = (name: string, labels: Record<string, string>): Node => ({ metadata: { name, labels } });

describe('volume matching as the PV controller does it', () => {
  it('takes the smallest volume that is big enough, of the same class, with every access mode asked', () => {
    const vols = [
      volume('big', '10Gi'),
      volume('small', '512Mi'),
      volume('fit', '2Gi'),
      volume('other-class', '1Gi', { storageClassName: 'fast' }),
      volume('rwx-only', '1Gi', { accessModes: ['ReadWriteMany'] }),
    ];
    expect(findMatchingVolume(claim(), vols)?.metadata?.name).toBe('fit');
    expect(findMatchingVolume(claim({ accessModes: ['ReadWriteMany'] }), vols)?.metadata?.name).toBe('rwx-only');
    expect(findMatchingVolume(claim({ resources: { requests: { storage: '20Gi' } } }), vols)).toBeUndefined();
  });

  it('prefers a volume pre-bound to the claim, and never takes one bound or pre-bound to another', () => {
    const c = claim();
    const pre = volume('pre', '5Gi', { claimRef: { namespace: 'ns', name: 'c' } });
    const other = volume('other', '1Gi', { claimRef: { namespace: 'ns', name: 'd', uid: 'uid-d' } });
    const wrongUid = volume('wrong-uid', '1Gi', { claimRef: { namespace: 'ns', name: 'c', uid: 'someone-else' } });
    expect(findMatchingVolume(c, [volume('free', '1Gi'), other, wrongUid, pre])?.metadata?.name).toBe('pre');
    expect(findMatchingVolume(c, [other, wrongUid])).toBeUndefined();
  });

  it('honours the claim selector, the volume mode, released volumes and deletion', () => {
    expect(volumeSatisfies(volume('v', '1Gi', {}, { tier: 'gold' }), claim({ selector: { matchLabels: { tier: 'gold' } } }))).toBe(true);
    expect(volumeSatisfies(volume('v', '1Gi', {}, { tier: 'silver' }), claim({ selector: { matchLabels: { tier: 'gold' } } }))).toBe(false);
    expect(volumeSatisfies(volume('v', '1Gi', { volumeMode: 'Block' }), claim())).toBe(false);
    expect(volumeSatisfies({ ...volume('v', '1Gi'), status: { phase: 'Released' } }, claim())).toBe(false);
    expect(volumeSatisfies({ ...volume('v', '1Gi'), metadata: { name: 'v', deletionTimestamp: '2026-01-01T00:00:00Z' } }, claim())).toBe(false);
    // no class on either side matches
    expect(volumeSatisfies(volume('v', '1Gi', { storageClassName: '' }), claim({ storageClassName: '' }))).toBe(true);
  });

  it("checks a volume's node affinity against a node", () => {
    const pinned = volume('v', '1Gi', {
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.csi.skiff.dev/node', operator: 'In', values: ['a'] }] }] } },
    });
    expect(volumeFitsNode(pinned, node('a', { 'topology.csi.skiff.dev/node': 'a' }))).toBe(true);
    expect(volumeFitsNode(pinned, node('b', { 'topology.csi.skiff.dev/node': 'b' }))).toBe(false);
    expect(volumeFitsNode(volume('free', '1Gi'), node('b', {}))).toBe(true);
    expect(findMatchingVolume(claim(), [pinned], node('b', {}))).toBeUndefined();
  });
});
