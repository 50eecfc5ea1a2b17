import { fieldErrors, type StatusCause } from '../../apimachinery/index.ts';

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

/** Name, namespace, labels and annotations, as ValidateObjectMeta checks them. */
export function validateObjectMeta(
  m: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> },
  namespaced: boolean,
  nameRule = dns1123Subdomain,
): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!m.name) causes.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  else for (const e of nameRule(m.name)) causes.push(fieldErrors.invalid('metadata.name', m.name, e));
  if (namespaced) {
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
  for (const k of Object.keys(m.annotations ?? {})) for (const e of qualifiedName(k)) causes.push(fieldErrors.invalid('metadata.annotations', k, e));
  return causes;
}
