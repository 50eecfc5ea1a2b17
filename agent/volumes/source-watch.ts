import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { Informer, podReferences, type Logger, type RestClient } from '../../apimachinery/index.ts';

const KINDS = { configMaps: 'configmaps', secrets: 'secrets' } as const;

/**
 * Watches each ConfigMap and Secret the node's pods read, one object at a
 * time (a watch with a metadata.name field selector, as the kubelet's
 * watch-based manager does: a node may read only what its pods use), and
 * names the pods that read a changed one, so their volumes are rewritten
 * (and a pod waiting for a missing one starts) without waiting for anything
 * else to change. Watches come and go with the pods that need them.
 */
export function watchPodSources(client: RestClient, pods: Informer<Pod>, changed: (uid: string) => void, log: Logger, signal: AbortSignal): void {
  const watches = new Map<string, AbortController>();
  const readers = (kind: keyof typeof KINDS, namespace: string, name: string) =>
    pods.list().filter((p) => p.metadata?.namespace === namespace && podReferences(p)[kind].has(name));
  const reconcile = () => {
    const wanted = new Map<string, { kind: keyof typeof KINDS; namespace: string; name: string }>();
    for (const p of pods.list()) {
      const namespace = p.metadata?.namespace ?? '';
      const refs = podReferences(p);
      for (const kind of ['configMaps', 'secrets'] as const) {
        for (const name of refs[kind]) wanted.set(`${kind}/${namespace}/${name}`, { kind, namespace, name });
      }
    }
    for (const [key, stop] of watches) {
      if (!wanted.has(key)) {
        stop.abort();
        watches.delete(key);
      }
    }
    for (const [key, { kind, namespace, name }] of wanted) {
      if (watches.has(key) || signal.aborted) continue;
      const stop = new AbortController();
      signal.addEventListener('abort', () => stop.abort(), { once: true, signal: stop.signal });
      watches.set(key, stop);
      const informer = new Informer<ConfigMap | Secret>(client, { resource: KINDS[kind], namespace }, { fieldSelector: `metadata.name=${name}`, log });
      const notify = () => {
        for (const p of readers(kind, namespace, name)) changed(p.metadata?.uid ?? '');
      };
      informer.addHandlers({ onAdd: notify, onUpdate: notify, onDelete: notify });
      void informer.run(stop.signal);
    }
  };
  pods.addHandlers({ onAdd: reconcile, onUpdate: reconcile, onDelete: reconcile });
  reconcile();
}
