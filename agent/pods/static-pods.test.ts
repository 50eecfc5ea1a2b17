import { describe, expect, it } from 'vitest';
import { CONFIG_HASH, CONFIG_MIRROR, CONFIG_SOURCE, mirrorPodOf, staticPodFrom } from './static-pods.ts';

const manifest = 'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system}\nspec:\n  containers: [{name: c, image: busybox}]\n';

describe('static pods', () => {
  it('are named after the node, bound to it, tolerate NoExecute, and carry a hash of manifest and node as uid', () => {
    const pod = staticPodFrom(manifest, 'etcd.yaml', 'n1');
    expect(pod.metadata).toMatchObject({ name: 'etcd-n1', namespace: 'kube-system', annotations: { [CONFIG_SOURCE]: 'file' } });
    expect(pod.metadata?.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(pod.metadata?.annotations?.[CONFIG_HASH]).toBe(pod.metadata?.uid);
    expect(pod.spec?.nodeName).toBe('n1');
    expect(pod.spec?.tolerations).toContainEqual({ operator: 'Exists', effect: 'NoExecute' });
    // another node or another manifest is another pod
    expect(staticPodFrom(manifest, 'etcd.yaml', 'n2').metadata?.uid).not.toBe(pod.metadata?.uid);
    expect(staticPodFrom(manifest.replace('busybox', 'busybox:1.35'), 'etcd.yaml', 'n1').metadata?.uid).not.toBe(pod.metadata?.uid);
  });

  it('refuse what is not a pod manifest', () => {
    expect(() => staticPodFrom('kind: Deployment\napiVersion: apps/v1\n', 'd.yaml', 'n1')).toThrow(/d\.yaml: not a v1 Pod manifest/);
    expect(() => staticPodFrom('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: []}\n', 'x.yaml', 'n1')).toThrow(/at least one container/);
  });

  it('are mirrored into the API without their uid, marked as mirrors and owned by the Node', () => {
    const pod = staticPodFrom(manifest, 'etcd.yaml', 'n1');
    const mirror = mirrorPodOf(pod, { name: 'n1', uid: 'node-uid' });
    expect(mirror.metadata?.uid).toBeUndefined();
    expect(mirror.metadata?.annotations?.[CONFIG_MIRROR]).toBe(pod.metadata?.uid);
    expect(mirror.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true }]);
    expect(mirror.spec).toEqual(pod.spec);
  });
});
