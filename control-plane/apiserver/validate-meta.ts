import { errors, fieldErrors, type StatusCause } from '../../apimachinery/index.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function dns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(value)) {
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return errs;
}

export function dns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return errs;
}

/** Names that only need to be one URL path segment (RBAC objects). */
export function pathSegmentName(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  return /[/%]/.test(value) ? [`may not contain '${value.includes('/') ? '/' : '%'}'`] : [];
}

function qualifiedName(key: string): string[] {
  const parts = key.split('/');
  const name = parts.length === 2 ? (parts[1] as string) : key;
  const errs: string[] = [];
  if (parts.length > 2)
    errs.push("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  if (parts.length === 2) errs.push(...dns1123Subdomain(parts[0] as string).map((e) => `prefix part ${e}`));
  if (name.length === 0 || name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME.test(name))
    errs.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  return errs;
}

/** What ValidateObjectMeta reads of an object's metadata. */
export interface CheckedMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  /** checked as OwnerReference objects (their JSON types were checked on decoding) */
  ownerReferences?: unknown[];
}

interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

export interface MetaRules {
  namespaced: boolean;
  /** how the name is checked: a DNS subdomain unless the kind says otherwise */
  nameRule?: (name: string) => string[];
  /** the core API's kinds take only the standard finalizers unqualified; custom resources and CRDs any qualified name */
  builtIn: boolean;
}

/** Annotations' keys and values together, as ValidateAnnotationsSize counts them. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** Name, namespace, labels, annotations, finalizers and owner references, as ValidateObjectMeta checks them. */
export function validateObjectMeta(m: CheckedMeta, rules: MetaRules): StatusCause[] {
  const nameRule = rules.nameRule ?? dns1123Subdomain;
  const causes: StatusCause[] = [];
  if (!m.name) causes.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  else for (const e of nameRule(m.name)) causes.push(fieldErrors.invalid('metadata.name', m.name, e));
  if (rules.namespaced) {
    if (!m.namespace) causes.push(fieldErrors.required('metadata.namespace'));
    else for (const e of dns1123Label(m.namespace)) causes.push(fieldErrors.invalid('metadata.namespace', m.namespace, e));
  }
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    for (const e of qualifiedName(k)) causes.push(fieldErrors.invalid('metadata.labels', k, e));
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      causes.push(
        fieldErrors.invalid(
          `metadata.labels`,
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    }
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    for (const e of qualifiedName(k)) causes.push(fieldErrors.invalid('metadata.annotations', k, e));
    annotationBytes += k.length + Buffer.byteLength(String(v));
  }
  if (annotationBytes > TOTAL_ANNOTATION_SIZE_LIMIT) causes.push(fieldErrors.tooLong('metadata.annotations', TOTAL_ANNOTATION_SIZE_LIMIT));
  causes.push(...validateFinalizers(m.finalizers ?? [], rules.builtIn), ...validateOwnerReferences((m.ownerReferences ?? []) as OwnerReference[]));
  return causes;
}

function validateFinalizers(finalizers: string[], builtIn: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  finalizers.forEach((f, i) => {
    const field = `metadata.finalizers[${i}]`;
    for (const e of qualifiedName(f)) causes.push(fieldErrors.invalid(field, f, e));
    if (builtIn && !f.includes('/') && !STANDARD_FINALIZERS.has(f))
      causes.push(fieldErrors.invalid(field, f, 'name is neither a standard finalizer name nor is it fully qualified'));
  });
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion'))
    causes.push(fieldErrors.invalid('metadata.finalizers', finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  return causes;
}

function validateOwnerReferences(refs: OwnerReference[]): StatusCause[] {
  const causes: StatusCause[] = [];
  const field = 'metadata.ownerReferences';
  let controller: string | undefined;
  for (const ref of refs) {
    const version = (ref.apiVersion ?? '').split('/').pop() ?? '';
    if (!version) causes.push(fieldErrors.invalid(`${field}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) causes.push(fieldErrors.invalid(`${field}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) causes.push(fieldErrors.invalid(`${field}.name`, ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) causes.push(fieldErrors.invalid(`${field}.uid`, ref.uid ?? '', 'uid must not be empty'));
    if (ref.controller !== true) continue;
    const current = `${ref.kind}/${ref.name}`;
    if (controller === undefined) controller = current;
    else
      causes.push(
        fieldErrors.invalid(field, refs, `Only one reference can have Controller set to true. Found "true" in references for ${controller} and ${current}`),
      );
  }
  return causes;
}

type JsonType = 'string' | 'integer' | 'object' | 'array';
const jsonTypeOf = (v: unknown): string =>
  Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : Number.isInteger(v) ? 'integer' : typeof v;
/** the value's kind as the decoder names it: every number is a number */
const decodedKind = (v: unknown): string => (typeof v === 'number' ? 'number' : jsonTypeOf(v));
/** The metadata fields the server reads, with the JSON type each must have (and the type of a map's values or a list's items). */
const META_FIELDS: Record<string, [JsonType, JsonType?]> = {
  name: ['string'],
  generateName: ['string'],
  namespace: ['string'],
  uid: ['string'],
  resourceVersion: ['string'],
  generation: ['integer'],
  deletionGracePeriodSeconds: ['integer'],
  labels: ['object', 'string'],
  annotations: ['object', 'string'],
  finalizers: ['array', 'string'],
  ownerReferences: ['array', 'object'],
  managedFields: ['array', 'object'],
};

/**
 * Refuses metadata whose fields have the wrong JSON type (a number as the
 * name) with 400, as the decoder does for every kind, custom ones too.
 */
export function checkMetadataTypes(kind: { kind: string; version: string }, metadata: Record<string, unknown>): void {
  const refuse = (field: string, value: unknown, type: JsonType) => {
    throw errors.badRequest(
      `${kind.kind} in version "${kind.version}" cannot be handled as a ${kind.kind}: json: cannot unmarshal ${decodedKind(value)} into field "metadata.${field}" of type ${type}`,
    );
  };
  for (const [field, [type, inner]] of Object.entries(META_FIELDS)) {
    const value = metadata[field];
    if (value === undefined || value === null) continue;
    if (jsonTypeOf(value) !== type) refuse(field, value, type);
    if (!inner) continue;
    for (const [key, item] of Object.entries(value as object)) {
      if (item !== null && jsonTypeOf(item) !== inner) refuse(Array.isArray(value) ? `${field}[${key}]` : `${field}.${key}`, item, inner);
    }
  }
}
