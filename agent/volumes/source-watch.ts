import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { Informer, type Logger, type RestClient } from '../../apimachinery/index.ts';

/** The ConfigMaps and Secrets (by name) a pod's volumes and environment read. */
export function referencedObjects(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const p of v.projected?.sources ?? []) {
      if (p.configMap?.name) configMaps.add(p.configMap.name);
      if (p.secret?.name) secrets.add(p.secret.name);
    }
  }
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
  }
  return { configMaps, secrets };
}

/**
 * Watches ConfigMaps and Secrets and names the node's pods that read a
 * changed one, so their volumes are rewritten (and a pod waiting for a
 * missing one starts) without waiting for anything else to change.
 */
export function watchPodSources(client: RestClient, pods: Informer<Pod>, changed: (uid: string) => void, log: Logger, signal: AbortSignal): void {
  const notify = (kind: 'configMaps' | 'secrets') => (o: ConfigMap | Secret) => {
    for (const p of pods.list()) {
      if (p.metadata?.namespace === o.metadata?.namespace && referencedObjects(p)[kind].has(o.metadata?.name ?? '')) changed(p.metadata?.uid ?? '');
    }
  };
  const configMaps = new Informer<ConfigMap>(client, { resource: 'configmaps' }, { log });
  const secrets = new Informer<Secret>(client, { resource: 'secrets' }, { log });
  const cm = notify('configMaps');
  const sec = notify('secrets');
  configMaps.addHandlers({ onAdd: cm, onUpdate: (_o, n) => cm(n), onDelete: cm });
  secrets.addHandlers({ onAdd: sec, onUpdate: (_o, n) => sec(n), onDelete: sec });
  void configMaps.run(signal);
  void secrets.run(signal);
}
