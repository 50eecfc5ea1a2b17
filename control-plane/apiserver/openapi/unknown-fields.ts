import { REF_PREFIX, type Schema } from './model-schemas.ts';

// Unknown fields, as kube-apiserver's decoder finds them: every field the
// kind's schema does not name is removed from the object and reported by its
// path (spec.containers[0].imagePullPolcy), so that fieldValidation can
// refuse (Strict), warn (Warn) or say nothing (Ignore).

function resolve(schemas: Record<string, Schema>, schema: Schema): Schema {
  const ref = schema.allOf?.[0]?.$ref;
  return ref ? (schemas[ref.slice(REF_PREFIX.length)] ?? {}) : schema;
}

/** Removes from `value` the fields `schema` does not know; returns their paths. */
export function pruneUnknownFields(schemas: Record<string, Schema>, schema: Schema, value: unknown, path = ''): string[] {
  const s = resolve(schemas, schema);
  if (s['x-kubernetes-preserve-unknown-fields'] || value === null || typeof value !== 'object') return [];
  const unknown: string[] = [];
  if (Array.isArray(value)) {
    if (s.items) value.forEach((item, i) => unknown.push(...pruneUnknownFields(schemas, s.items as Schema, item, `${path}[${i}]`)));
    return unknown;
  }
  const obj = value as Record<string, unknown>;
  const at = (key: string) => (path ? `${path}.${key}` : key);
  if (s.properties) {
    for (const key of Object.keys(obj)) {
      const field = s.properties[key];
      if (!field) {
        unknown.push(at(key));
        delete obj[key];
      } else {
        unknown.push(...pruneUnknownFields(schemas, field, obj[key], at(key)));
      }
    }
  } else if (s.additionalProperties) {
    for (const key of Object.keys(obj)) unknown.push(...pruneUnknownFields(schemas, s.additionalProperties, obj[key], at(key)));
  }
  return unknown;
}
