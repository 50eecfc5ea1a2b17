import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import type { WebhookClientConfig } from '../webhook-client.ts';
import type { AdmissionSelectors } from './selectors.ts';
import { celProgram } from '../custom-resources/cel-library.ts';

// ValidatingWebhookConfiguration and MutatingWebhookConfiguration
// (admissionregistration.k8s.io/v1): their webhooks, defaulted and checked
// as the API does.

export interface RuleWithOperations {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: '*' | 'Cluster' | 'Namespaced';
}

export interface Webhook extends AdmissionSelectors {
  name: string;
  clientConfig: WebhookClientConfig;
  rules?: RuleWithOperations[];
  failurePolicy?: 'Ignore' | 'Fail';
  matchPolicy?: 'Exact' | 'Equivalent';
  sideEffects?: 'None' | 'NoneOnDryRun' | 'Some' | 'Unknown';
  timeoutSeconds?: number;
  admissionReviewVersions?: string[];
  reinvocationPolicy?: 'Never' | 'IfNeeded';
  /** CEL over object, oldObject and request: all must hold for the webhook to be called */
  matchConditions?: { name: string; expression: string }[];
}

export const webhooksOf = (obj: Obj) => ((obj as { webhooks?: Webhook[] }).webhooks ?? []) as Webhook[];

function defaultWebhook(w: Webhook, mutating: boolean): void {
  w.failurePolicy ??= 'Fail';
  w.matchPolicy ??= 'Equivalent';
  w.namespaceSelector ??= {};
  w.objectSelector ??= {};
  w.timeoutSeconds ??= 10;
  if (mutating) w.reinvocationPolicy ??= 'Never';
  for (const r of w.rules ?? []) r.scope ??= '*';
  if (w.clientConfig?.service) w.clientConfig.service.port ??= 443;
}

function validateWebhook(w: Webhook, at: string, names: Set<string>): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!w.name) causes.push(fieldErrors.required(`${at}.name`));
  else if (names.has(w.name)) causes.push(fieldErrors.duplicate(`${at}.name`, w.name));
  else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(w.name))
    causes.push(fieldErrors.invalid(`${at}.name`, w.name, 'should be a domain with at least three segments separated by dots'));
  names.add(w.name);
  const cc = w.clientConfig ?? {};
  if (!!cc.url === !!cc.service) causes.push(fieldErrors.required(`${at}.clientConfig`, 'exactly one of url or service is required'));
  if (cc.url && !cc.url.startsWith('https://')) causes.push(fieldErrors.invalid(`${at}.clientConfig.url`, cc.url, "'https' is the only allowed URL scheme"));
  if (!w.sideEffects) causes.push(fieldErrors.required(`${at}.sideEffects`));
  else if (!['None', 'NoneOnDryRun'].includes(w.sideEffects))
    causes.push(fieldErrors.notSupported(`${at}.sideEffects`, w.sideEffects, ['None', 'NoneOnDryRun']));
  const versions = w.admissionReviewVersions ?? [];
  if (!versions.length) causes.push(fieldErrors.required(`${at}.admissionReviewVersions`));
  else if (!versions.includes('v1') && !versions.includes('v1beta1'))
    causes.push(fieldErrors.invalid(`${at}.admissionReviewVersions`, versions, 'must include at least one of v1, v1beta1'));
  if (w.timeoutSeconds !== undefined && (w.timeoutSeconds < 1 || w.timeoutSeconds > 30))
    causes.push(fieldErrors.invalid(`${at}.timeoutSeconds`, w.timeoutSeconds, 'the timeout value must be between 1 and 30 seconds'));
  (w.matchConditions ?? []).forEach((c, i) => {
    try {
      celProgram(c.expression);
    } catch (err) {
      causes.push(fieldErrors.invalid(`${at}.matchConditions[${i}].expression`, c.expression, `compilation failed: ${(err as Error).message.split('\n')[0]}`));
    }
  });
  if (w.failurePolicy && !['Ignore', 'Fail'].includes(w.failurePolicy))
    causes.push(fieldErrors.notSupported(`${at}.failurePolicy`, w.failurePolicy, ['Fail', 'Ignore']));
  return causes;
}

export function webhookConfigurationStrategy(mutating: boolean): Strategy {
  return {
    defaults: (obj) => {
      for (const w of webhooksOf(obj)) defaultWebhook(w, mutating);
    },
    validate: (obj) => {
      const names = new Set<string>();
      return webhooksOf(obj).flatMap((w, i) => validateWebhook(w, `webhooks[${i}]`, names));
    },
  };
}
