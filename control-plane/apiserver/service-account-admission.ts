import { randomBytes } from 'node:crypto';
import type { Container, PodSpec, ServiceAccount, Volume } from 'kubernetes-types/core/v1.js';
import { MIRROR_POD_ANNOTATION, ApiError, podContainers } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';
import type { Obj } from './resource-info.ts';

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A bound token a little over an hour long, as Kubernetes projects it (the extra seconds tell such tokens apart). */
const TOKEN_SECONDS = 3607;

/** The projected volume the ServiceAccount admission plugin gives a pod: token, cluster CA, namespace. */
export function apiAccessVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/**
 * The ServiceAccount admission plugin on pod creation: the pod runs as the
 * `default` service account unless it names one, and — unless the pod or
 * its service account turns automounting off — gets a `kube-api-access-…`
 * volume mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount
 * in every container that has nothing there already.
 */
export async function admitServiceAccount(serviceAccounts: Registry, namespace: string, pod: Obj): Promise<void> {
  const spec = pod.spec as PodSpec | undefined;
  // a mirror pod shows what a node runs from a manifest: nothing is added to it
  if (!spec || pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
  spec.serviceAccountName ||= spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  let sa: ServiceAccount | undefined;
  try {
    sa = (await serviceAccounts.get(namespace, spec.serviceAccountName)) as unknown as ServiceAccount;
  } catch (err) {
    // the namespace's default account may not be made yet; the token request waits for it
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  // a pod naming no pull secrets gets its account's
  if (!spec.imagePullSecrets?.length && sa?.imagePullSecrets?.length) spec.imagePullSecrets = sa.imagePullSecrets.map((r) => ({ name: r.name }));
  const automount = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
  if (!automount) return;
  const mounted = (c: Container) => (c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH);
  const containers = podContainers(spec);
  if (containers.every(mounted)) return;
  const name = `kube-api-access-${randomBytes(3).toString('hex').slice(0, 5)}`;
  spec.volumes = [...(spec.volumes ?? []), apiAccessVolume(name)];
  for (const c of containers) if (!mounted(c)) c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
}
