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
  /** per watched object: its watch, and the pods (by uid) that read it */
  const watches = new Map<string, { stop: AbortController; readers: Set<string> }>();
  /** per pod: the objects it reads, so a pod event costs the pod's own references, not a look at every pod */
  const readsOf = new Map<string, Set<string>>();
  const watch = (key: string, kind: keyof typeof KINDS, namespace: string, name: string) => {
    const stop = new AbortController();
    signal.addEventListener('abort', () => stop.abort(), { once: true, signal: stop.signal });
    const entry = { stop, readers: new Set<string>() };
    watches.set(key, entry);
    const informer = new Informer<ConfigMap | Secret>(client, { resource: KINDS[kind], namespace }, { fieldSelector: `metadata.name=${name}`, log });
    const notify = () => {
      for (const uid of entry.readers) changed(uid);
    };
    informer.addHandlers({ onAdd: notify, onUpdate: notify, onDelete: notify });
    void informer.run(stop.signal);
    return entry;
  };
  const unread = (uid: string, key: string) => {
    const entry = watches.get(key);
    entry?.readers.delete(uid);
    if (entry && entry.readers.size === 0) {
      entry.stop.abort();
      watches.delete(key);
    }
  };
  const podSeen = (p: Pod) => {
    const uid = p.metadata?.uid ?? '';
    const namespace = p.metadata?.namespace ?? '';
    const refs = podReferences(p);
    const now = new Map<string, { kind: keyof typeof KINDS; name: string }>();
    for (const kind of ['configMaps', 'secrets'] as const) for (const name of refs[kind]) now.set(`${kind}/${namespace}/${name}`, { kind, name });
    for (const key of readsOf.get(uid) ?? []) if (!now.has(key)) unread(uid, key);
    for (const [key, { kind, name }] of now) {
      if (signal.aborted) break;
      (watches.get(key) ?? watch(key, kind, namespace, name)).readers.add(uid);
    }
    readsOf.set(uid, new Set(now.keys()));
  };
  const podGone = (p: Pod) => {
    const uid = p.metadata?.uid ?? '';
    for (const key of readsOf.get(uid) ?? []) unread(uid, key);
    readsOf.delete(uid);
  };
  pods.addHandlers({ onAdd: podSeen, onUpdate: (_old, p) => podSeen(p), onDelete: podGone });
  for (const p of pods.list()) podSeen(p);
}
