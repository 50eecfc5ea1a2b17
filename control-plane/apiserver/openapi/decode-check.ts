import { REF_PREFIX, type Schema } from './model-schemas.ts';

// What kube-apiserver's decoder finds wrong in a body, against the kind's
// schema: fields the schema does not name (removed from the object and
// reported by path, spec.containers[0].imagePullPolcy, for fieldValidation
// to refuse, warn or ignore), and values of the wrong JSON type (refused
// for built-in kinds; a custom resource's schema validation reports them). Strings also take numbers: quantities are typed as strings.

export interface DecodeFindings {
  unknown: string[];
  /** `json: cannot unmarshal string into field "data" of type object` */
  mistyped: string[];
}

function resolve(schemas: Record<string, Schema>, schema: Schema): Schema {
  const ref = schema.allOf?.[0]?.$ref;
  return ref ? (schemas[ref.slice(REF_PREFIX.length)] ?? {}) : schema;
}

const jsonType = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v);

function typeMatches(type: Schema['type'], value: unknown): boolean {
  switch (type) {
    case 'object':
      return jsonType(value) === 'object';
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string' || typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

/** Checks `value` against `schema`, removing the fields it does not know. */
export function checkDecoded(
  schemas: Record<string, Schema>,
  schema: Schema,
  value: unknown,
  path = '',
  found: DecodeFindings = { unknown: [], mistyped: [] },
): DecodeFindings {
  const s = resolve(schemas, schema);
  if (value === null || s['x-kubernetes-int-or-string']) return found;
  if (!typeMatches(s.type, value)) {
    found.mistyped.push(`json: cannot unmarshal ${jsonType(value)} into field "${path || '.'}" of type ${s.type}`);
    return found;
  }
  if (s['x-kubernetes-preserve-unknown-fields'] || typeof value !== 'object') return found;
  if (Array.isArray(value)) {
    if (s.items) value.forEach((item, i) => checkDecoded(schemas, s.items as Schema, item, `${path}[${i}]`, found));
    return found;
  }
  const obj = value as Record<string, unknown>;
  const at = (key: string) => (path ? `${path}.${key}` : key);
  for (const key of Object.keys(obj)) {
    const field = s.properties ? s.properties[key] : s.additionalProperties;
    if (field) checkDecoded(schemas, field, obj[key], at(key), found);
    else if (s.properties) {
      found.unknown.push(at(key));
      delete obj[key];
    }
  }
  return found;
}

/**
 * What Go's decoder makes of null in a typed object: a struct field set to
 * null is as if absent, a null element of a list of structs is the empty
 * struct. (Maps keep their nulls: a ConfigMap's data treats them itself.)
 */
export function zeroNulls(schemas: Record<string, Schema>, schema: Schema, value: unknown): void {
  const s = resolve(schemas, schema);
  if (value === null || typeof value !== 'object' || s['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    const items = s.items ? resolve(schemas, s.items) : undefined;
    if (!items) return;
    value.forEach((item, i) => {
      if (item === null && items.type === 'object' && items.properties) value[i] = {};
      else zeroNulls(schemas, items, item);
    });
    return;
  }
  if (!s.properties) return;
  const obj = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(s.properties)) {
    if (!(key in obj)) continue;
    if (obj[key] === null) delete obj[key];
    else zeroNulls(schemas, field, obj[key]);
  }
}
