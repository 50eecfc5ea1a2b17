import type { PodSpec } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../../../apimachinery/index.ts';
import { evaluatePod, formatPolicy, namespacePolicy, type PolicyDefaults } from './policy.ts';

// The PodSecurity admission plugin: a pod is refused when its namespace's
// enforce level forbids it and warned of when the warn level does; a
// workload's pod template is only warned of (its pods are refused when made).

/** The PodSecurity plugin's configuration (PodSecurityConfiguration of pod-security.admission.config.k8s.io/v1). */
export interface PodSecurityConfig {
  defaults: PolicyDefaults;
  exemptions: { usernames: string[]; namespaces: string[]; runtimeClasses: string[] };
}

export const DEFAULT_POD_SECURITY: PodSecurityConfig = { defaults: {}, exemptions: { usernames: [], namespaces: [], runtimeClasses: [] } };

export interface PodSecurityRequest {
  config: PodSecurityConfig;
  /** the labels of the namespace the object is written to */
  namespaceLabels: Record<string, string> | undefined;
  namespace: string;
  user: string;
  /** the pod, or the pod template of a workload */
  meta: ObjectMeta;
  spec: PodSpec;
  /** the pod's own name, for the refusal; absent for a workload's template */
  podName?: string;
}

function exempt(r: PodSecurityRequest): boolean {
  const e = r.config.exemptions;
  return (
    e.usernames.includes(r.user) || e.namespaces.includes(r.namespace) || (!!r.spec.runtimeClassName && e.runtimeClasses.includes(r.spec.runtimeClassName))
  );
}

/** Admits a pod: throws 403 when enforce forbids it; returns the warnings to send. */
export function admitPod(r: PodSecurityRequest): string[] {
  if (exempt(r)) return [];
  const policy = namespacePolicy(r.namespaceLabels, r.config.defaults);
  const enforced = evaluatePod(policy.enforce, r.meta, r.spec);
  if (enforced.length) {
    const name = r.podName ?? '';
    throw new ApiError('Forbidden', `pods "${name}" is forbidden: violates PodSecurity "${formatPolicy(policy.enforce)}": ${enforced.join(', ')}`, {
      name,
      kind: 'pods',
    });
  }
  return warningsOf(policy.warn, r);
}

/** Checks a workload's pod template: warnings only, as Kubernetes gives them. */
export function checkPodTemplate(r: PodSecurityRequest): string[] {
  if (exempt(r)) return [];
  return warningsOf(namespacePolicy(r.namespaceLabels, r.config.defaults).warn, r);
}

function warningsOf(warn: Parameters<typeof evaluatePod>[0], r: PodSecurityRequest): string[] {
  const found = evaluatePod(warn, r.meta, r.spec);
  return found.length ? [`would violate PodSecurity "${formatPolicy(warn)}": ${found.join(', ')}`] : [];
}
