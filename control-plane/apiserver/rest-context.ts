import type { Logger } from '../../apimachinery/index.ts';
import type { ServiceAccountTokens } from '../auth/index.ts';
import type { ModelSchemas } from './openapi/model-schemas.ts';
import type { PodSecurityConfig } from './pod-security/index.ts';
import type { WebhookDispatcher } from './admission-webhooks/index.ts';
import type { AdmissionPolicies, MutatingAdmissionPolicies } from './admission-policies/index.ts';
import type { KubeletClientConfig } from './pod-log.ts';
import type { Registry } from './registry.ts';
import type { ReviewContext } from './reviews.ts';
import type { WatchTally } from './watch-stream.ts';

/** What every request handler is given: the registries, the kubelet client, auth, schemas, and the server's lifetime. */
export interface RestContext {
  registries: Map<string, Registry>;
  kubelet: KubeletClientConfig;
  closing: AbortSignal;
  log: Logger;
  /** watches: how often bookmarks go out, and how many are open */
  watch: { bookmarkIntervalMs: number; tally: WatchTally };
  auth: Omit<ReviewContext, 'user' | 'namespace'> & { tokens: ServiceAccountTokens };
  /** the kinds' schemas, for fieldValidation */
  schemas: ModelSchemas;
  /** the PodSecurity plugin's defaults and exemptions */
  podSecurity: PodSecurityConfig;
  /** the admission webhooks of the cluster's webhook configurations */
  webhooks: WebhookDispatcher;
  /** the ValidatingAdmissionPolicies and their bindings */
  policies: AdmissionPolicies;
  /** the MutatingAdmissionPolicies and their bindings */
  mutatingPolicies: MutatingAdmissionPolicies;
  /** told how long each admission step (mutating: admit, validating: validate) took and whether it refused */
  admissionStep?(s: AdmissionTiming): void;
  /** told the same of each admission plugin, by kube-apiserver's name for it */
  admissionPlugin?(p: AdmissionTiming & { name: string }): void;
}

/** How long one part of the admission chain took on a write, and whether it refused the write. */
export interface AdmissionTiming {
  type: 'admit' | 'validate';
  operation: string;
  rejected: boolean;
  seconds: number;
}

/** The key of a resource's registry. */
export function registryKey(group: string, resource: string): string {
  return `${group}/${resource}`;
}
