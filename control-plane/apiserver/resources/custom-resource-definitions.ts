import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import { invalidRules } from '../custom-resources/cel-rules.ts';
import { invalidDefaults } from '../custom-resources/defaulting.ts';
import type { JsonSchema } from '../custom-resources/validation.ts';
import type { WebhookClientConfig } from '../webhook-client.ts';
import type { Obj, Strategy } from '../resource-info.ts';

// CustomResourceDefinition objects: what makes one valid, and the parts the
// server reads back when it serves the resource one defines.

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: Record<string, unknown> };
  subresources?: { status?: object; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: { name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string }[];
  selectableFields?: { jsonPath: string }[];
}

export interface CrdSpec {
  group: string;
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
  conversion?: { strategy?: 'None' | 'Webhook'; webhook?: { clientConfig?: WebhookClientConfig; conversionReviewVersions?: string[] } };
}

/** The finalizer through which the server removes every custom resource before the definition goes. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export const crdSpec = (obj: Obj) => obj.spec as unknown as CrdSpec;

/** The version objects are stored in (served or not). */
export function storageVersion(spec: CrdSpec): CrdVersion | undefined {
  return spec.versions?.find((v) => v.storage);
}

/** v1 > v1beta2 > v1beta1 > v1alpha1 > other names (alphabetically): Kubernetes' version priority. */
function versionRank(v: string): [number, number, number] | undefined {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return undefined;
  return [m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
}

export function compareVersionPriority(a: string, b: string): number {
  const [ra, rb] = [versionRank(a), versionRank(b)];
  if (ra && rb) return rb[0] - ra[0] || rb[1] - ra[1] || rb[2] - ra[2];
  if (ra || rb) return ra ? -1 : 1;
  return a.localeCompare(b);
}

/** The versions served, the preferred first (discovery names the first as preferredVersion). */
export function servedVersions(spec: CrdSpec): CrdVersion[] {
  return (spec.versions ?? []).filter((v) => v.served).sort((a, b) => compareVersionPriority(a.name, b.name));
}

/** A conversion webhook needs somewhere to call, and must speak the ConversionReview version we send (v1). */
function validateConversion(conversion: CrdSpec['conversion']): StatusCause[] {
  if (conversion?.strategy === undefined || conversion.strategy === 'None') {
    return conversion?.webhook ? [fieldErrors.forbidden('spec.conversion.webhook', 'should not be set when strategy is not set to Webhook')] : [];
  }
  if (conversion.strategy !== 'Webhook') return [fieldErrors.notSupported('spec.conversion.strategy', conversion.strategy, ['None', 'Webhook'])];
  const webhook = conversion.webhook;
  if (!webhook) return [fieldErrors.required('spec.conversion.webhook', 'required when strategy is set to Webhook')];
  const causes: StatusCause[] = [];
  const config = webhook.clientConfig;
  if (!config || (config.url === undefined) === (config.service === undefined)) {
    causes.push(fieldErrors.required('spec.conversion.webhook.clientConfig', 'exactly one of url or service is required'));
  } else if (config.url !== undefined && !/^https:\/\//.test(config.url)) {
    causes.push(fieldErrors.invalid('spec.conversion.webhook.clientConfig.url', config.url, "'https' is the only allowed URL scheme"));
  }
  const reviews = webhook.conversionReviewVersions ?? [];
  if (!reviews.includes('v1')) causes.push(fieldErrors.invalid('spec.conversion.webhook.conversionReviewVersions', reviews, 'must include at least one of v1'));
  return causes;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function validateCrd(obj: Obj): StatusCause[] {
  const spec = (obj.spec ?? {}) as Partial<CrdSpec>;
  const causes: StatusCause[] = [];
  if (!spec.group) causes.push(fieldErrors.required('spec.group'));
  if (!spec.names?.plural) causes.push(fieldErrors.required('spec.names.plural'));
  else if (!DNS_LABEL.test(spec.names.plural))
    causes.push(
      fieldErrors.invalid('spec.names.plural', spec.names.plural, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"),
    );
  if (!spec.names?.kind) causes.push(fieldErrors.required('spec.names.kind'));
  if (spec.group && spec.names?.plural && obj.metadata.name !== `${spec.names.plural}.${spec.group}`) {
    causes.push(fieldErrors.invalid('metadata.name', obj.metadata.name, `must be spec.names.plural+"."+spec.group`));
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push(fieldErrors.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  const versions = spec.versions ?? [];
  if (versions.length === 0) causes.push(fieldErrors.required('spec.versions', 'must have exactly one version marked as storage version'));
  else if (versions.filter((v) => v.storage).length !== 1)
    causes.push(
      fieldErrors.invalid(
        'spec.versions',
        versions.map((v) => v.name),
        'must have exactly one version marked as storage version',
      ),
    );
  versions.forEach((v, i) => {
    const schema = v.schema?.openAPIV3Schema as JsonSchema | undefined;
    const at = `spec.versions[${i}].schema.openAPIV3Schema`;
    if (!schema) causes.push(fieldErrors.required(at, 'schemas are required'));
    else causes.push(...invalidDefaults(schema, at), ...invalidRules(schema, at));
  });
  causes.push(...validateConversion(spec.conversion));
  return causes;
}

/** status.storedVersions gains the storage version as soon as objects may be written in it, as kube-apiserver's strategy does. */
function recordStorageVersion(crd: Obj): void {
  const storage = storageVersion(crdSpec(crd))?.name;
  const status = (crd.status ??= {}) as { storedVersions?: string[] };
  const stored = status.storedVersions ?? [];
  if (storage && !stored.includes(storage)) status.storedVersions = [...stored, storage];
}

export const customResourceDefinitionStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.metadata.finalizers = [...new Set([...(obj.metadata.finalizers ?? []), CRD_CLEANUP_FINALIZER])];
    obj.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: [] };
    recordStorageVersion(obj);
  },
  prepareForUpdate(obj) {
    recordStorageVersion(obj);
  },
  validate: validateCrd,
  validateUpdate(obj, old) {
    const causes = validateCrd(obj);
    const [next, prev] = [obj.spec as Partial<CrdSpec> | undefined, old.spec as Partial<CrdSpec> | undefined];
    if (next?.group !== prev?.group) causes.push(fieldErrors.invalid('spec.group', next?.group, 'field is immutable'));
    if (next?.scope !== prev?.scope) causes.push(fieldErrors.invalid('spec.scope', next?.scope, 'field is immutable'));
    return causes;
  },
};
