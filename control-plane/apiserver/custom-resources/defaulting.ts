import type { StatusCause } from '../../../apimachinery/index.ts';
import { fieldSchema, forEachSchema, validateSchema, type JsonSchema } from './validation.ts';

// Schema defaults (`default:` in a CRD's openAPIV3Schema), applied as
// kube-apiserver applies them to a request's object: a property missing from
// an object that is there gets a copy of its default, then every value is
// walked in turn (so defaults inside a defaulted object apply as well).
// Objects already stored are not defaulted again until they are written.

export function applyDefaults(schema: JsonSchema, value: unknown): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(schema.items, item);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (obj[key] === undefined && property.default !== undefined) obj[key] = structuredClone(property.default);
  }
  for (const [key, v] of Object.entries(obj)) {
    const property = fieldSchema(schema, key);
    if (property) applyDefaults(property, v);
  }
}

/** Defaults that their own schema refuses (checked when a definition is written), with the path of each within `path`. */
export function invalidDefaults(schema: JsonSchema, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  forEachSchema(schema, path, (s, at) => {
    if (s.default !== undefined) causes.push(...validateSchema(s, s.default, `${at}.default`));
  });
  return causes;
}
