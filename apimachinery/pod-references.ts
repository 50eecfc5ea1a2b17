import type { Pod } from 'kubernetes-types/core/v1.js';
import { podContainers } from './pod-containers.ts';

/** What a pod reads from the API by name, in its own namespace. */
export interface PodReferences {
  configMaps: Set<string>;
  secrets: Set<string>;
  persistentVolumeClaims: Set<string>;
  serviceAccount: string;
}

/**
 * The ConfigMaps, Secrets and claims a pod's volumes, environment and image
 * pulls name, and its service account: what the node running it may read
 * (the Node authorizer) and what the agent watches for it.
 */
export function podReferences(pod: Pod): PodReferences {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const persistentVolumeClaims = new Set<string>();
  const add = (set: Set<string>, name: string | undefined) => void (name && set.add(name));
  for (const s of pod.spec?.imagePullSecrets ?? []) add(secrets, s.name);
  for (const v of pod.spec?.volumes ?? []) {
    add(configMaps, v.configMap?.name);
    add(secrets, v.secret?.secretName);
    add(secrets, v.csi?.nodePublishSecretRef?.name);
    add(persistentVolumeClaims, v.persistentVolumeClaim?.claimName);
    // a generic ephemeral volume's claim is named after the pod and the volume
    if (v.ephemeral) add(persistentVolumeClaims, `${pod.metadata?.name}-${v.name}`);
    for (const p of v.projected?.sources ?? []) {
      add(configMaps, p.configMap?.name);
      add(secrets, p.secret?.name);
    }
  }
  for (const c of podContainers(pod.spec)) {
    for (const f of c.envFrom ?? []) {
      add(configMaps, f.configMapRef?.name);
      add(secrets, f.secretRef?.name);
    }
    for (const e of c.env ?? []) {
      add(configMaps, e.valueFrom?.configMapKeyRef?.name);
      add(secrets, e.valueFrom?.secretKeyRef?.name);
    }
  }
  return { configMaps, secrets, persistentVolumeClaims, serviceAccount: pod.spec?.serviceAccountName || 'default' };
}
