import type { Container, Pod, SeccompProfile } from 'kubernetes-types/core/v1.js';
import type { LinuxContainerSecurityContext, NamespaceOption, SecurityProfile } from '../cri/index.ts';

/** The container's settings where it has them, else the pod's (the kubelet's effective security context). */
function effective(pod: Pod, c: Container) {
  const p = pod.spec?.securityContext ?? {};
  const s = c.securityContext ?? {};
  return {
    runAsUser: s.runAsUser ?? p.runAsUser,
    runAsGroup: s.runAsGroup ?? p.runAsGroup,
    runAsNonRoot: s.runAsNonRoot ?? p.runAsNonRoot,
    seccompProfile: s.seccompProfile ?? p.seccompProfile,
  };
}

/** seccomp as CRI names it; no profile is Unconfined, as the kubelet has it without SeccompDefault. */
function seccomp(profile: SeccompProfile | undefined): SecurityProfile {
  switch (profile?.type) {
    case 'RuntimeDefault':
      return { profileType: 'RuntimeDefault' };
    case 'Localhost':
      return { profileType: 'Localhost', localhostRef: profile.localhostProfile ?? '' };
    default:
      return { profileType: 'Unconfined' };
  }
}

/**
 * The container's Linux security context for CRI: user and group, the pod's
 * supplemental groups and fsGroup, capabilities to add and drop,
 * no_new_privs from allowPrivilegeEscalation: false, seccomp, privileged and
 * a read-only root filesystem.
 */
export function containerSecurityContext(pod: Pod, c: Container, namespaceOptions: NamespaceOption): LinuxContainerSecurityContext {
  const e = effective(pod, c);
  const sc = c.securityContext ?? {};
  const podSc = pod.spec?.securityContext ?? {};
  const groups = [...(podSc.supplementalGroups ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])];
  return {
    namespaceOptions,
    privileged: sc.privileged ?? false,
    readonlyRootfs: sc.readOnlyRootFilesystem ?? false,
    ...(e.runAsUser !== undefined ? { runAsUser: { value: e.runAsUser } } : {}),
    ...(e.runAsGroup !== undefined ? { runAsGroup: { value: e.runAsGroup } } : {}),
    ...(groups.length ? { supplementalGroups: groups } : {}),
    ...(sc.capabilities ? { capabilities: { addCapabilities: sc.capabilities.add ?? [], dropCapabilities: sc.capabilities.drop ?? [] } } : {}),
    ...(sc.allowPrivilegeEscalation === false ? { noNewPrivs: true } : {}),
    seccomp: seccomp(e.seccompProfile),
  };
}

/** The user an image runs as, from CRI ImageStatus: a uid, a name, or neither (which runs as root). */
export interface ImageUser {
  uid?: number;
  username?: string;
}

/**
 * What the kubelet says when runAsNonRoot cannot hold (the container then
 * waits in CreateContainerConfigError), or undefined when it holds.
 */
export function runAsNonRootViolation(pod: Pod, c: Container, image: ImageUser): string | undefined {
  const e = effective(pod, c);
  if (!e.runAsNonRoot) return undefined;
  const who = `(pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})", container: ${c.name})`;
  if (e.runAsUser !== undefined) return e.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${who}` : undefined;
  if (image.uid === undefined && image.username)
    return `container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root ${who}`;
  if ((image.uid ?? 0) === 0) return `container has runAsNonRoot and image will run as root ${who}`;
  return undefined;
}
