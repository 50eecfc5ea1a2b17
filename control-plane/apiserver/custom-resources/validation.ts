import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { ValidationRule } from './cel-rules.ts';

// What a CRD's openAPIV3Schema asks beyond known fields (which the decoder
// prunes): value types, required fields, enums, bounds and patterns,
// reported as kube-apiserver words them ("spec.replicas in body should be ...").

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  'x-kubernetes-validations'?: ValidationRule[];
  /** set: items unique; map: items unique by their map keys, and matched old to new by them */
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-int-or-string'?: boolean;
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  not?: JsonSchema;
}

/** A map list item's identity: its key fields' values (as JSON, to compare). */
export function mapListKey(schema: JsonSchema, item: unknown): string | undefined {
  const keys = schema['x-kubernetes-list-map-keys'];
  if (schema['x-kubernetes-list-type'] !== 'map' || !keys || item === null || typeof item !== 'object') return undefined;
  const fields = item as Record<string, unknown>;
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, fields[k]])));
}

/** Duplicate items of a set, or of a map list by its keys, as kube-apiserver reports them. */
function duplicateItems(schema: JsonSchema, items: unknown[], path: string): StatusCause[] {
  const type = schema['x-kubernetes-list-type'];
  if (type !== 'set' && type !== 'map') return [];
  const seen = new Set<string>();
  const causes: StatusCause[] = [];
  items.forEach((item, i) => {
    const identity = type === 'set' ? JSON.stringify(item) : mapListKey(schema, item);
    if (identity === undefined) return;
    if (seen.has(identity)) causes.push(fieldErrors.duplicate(`${path}[${i}]`, JSON.parse(identity)));
    seen.add(identity);
  });
  return causes;
}

/** The schema of an object's field `key`: its property, or the schema every other key has (additionalProperties). */
export function fieldSchema(schema: JsonSchema, key: string): JsonSchema | undefined {
  return schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
}

const jsonType = (v: unknown) => (Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v === 'object' ? 'object' : typeof v);

function typeMatches(type: string, value: unknown): boolean {
  const actual = jsonType(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** anyOf, allOf, oneOf and not: what the value must (and must not) also satisfy, as kube-apiserver words a failure. */
function combinators(schema: JsonSchema, value: unknown, path: string): StatusCause[] {
  const inBody = (what: string) => `${path} in body ${what}`;
  const passes = (s: JsonSchema) => validateSchema(s, value, path).length === 0;
  const causes: StatusCause[] = [];
  if (schema.anyOf && !schema.anyOf.some(passes)) causes.push(fieldErrors.invalid(path, value, inBody('must validate at least one schema (anyOf)')));
  for (const s of schema.allOf ?? []) causes.push(...validateSchema(s, value, path));
  if (schema.oneOf && schema.oneOf.filter(passes).length !== 1)
    causes.push(fieldErrors.invalid(path, value, inBody('must validate one and only one schema (oneOf)')));
  if (schema.not && passes(schema.not)) causes.push(fieldErrors.invalid(path, value, inBody('must not validate the schema (not)')));
  return causes;
}

export function validateSchema(schema: JsonSchema, value: unknown, path: string): StatusCause[] {
  if (value === undefined || value === null) return [];
  const causes: StatusCause[] = [];
  const inBody = (what: string) => `${path} in body ${what}`;
  if (schema['x-kubernetes-int-or-string'] && !Number.isInteger(value) && typeof value !== 'string')
    return [fieldErrors.invalid(path, value, inBody(`must be of type integer,string: "${jsonType(value)}"`))];
  if (schema.type && !typeMatches(schema.type, value))
    return [fieldErrors.invalid(path, value, inBody(`must be of type ${schema.type}: "${jsonType(value)}"`))];
  causes.push(...combinators(schema, value, path));
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    causes.push(fieldErrors.notSupported(path, value, schema.enum.map(String)));
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      causes.push(fieldErrors.invalid(path, value, inBody(`should be greater than or equal to ${schema.minimum}`)));
    if (schema.maximum !== undefined && value > schema.maximum)
      causes.push(fieldErrors.invalid(path, value, inBody(`should be less than or equal to ${schema.maximum}`)));
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      causes.push(fieldErrors.invalid(path, value, inBody(`should be at least ${schema.minLength} chars long`)));
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      causes.push(fieldErrors.invalid(path, value, inBody(`may not be longer than ${schema.maxLength}`)));
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      causes.push(fieldErrors.invalid(path, value, inBody(`should match '${schema.pattern}'`)));
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      causes.push(fieldErrors.invalid(path, value, inBody(`should have at least ${schema.minItems} items`)));
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      causes.push(fieldErrors.invalid(path, value, inBody(`should have at most ${schema.maxItems} items`)));
    causes.push(...duplicateItems(schema, value, path));
    if (schema.items) value.forEach((item, i) => causes.push(...validateSchema(schema.items as JsonSchema, item, `${path}[${i}]`)));
  } else if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const at = (k: string) => (path ? `${path}.${k}` : k);
    for (const k of schema.required ?? []) if (obj[k] === undefined) causes.push(fieldErrors.required(at(k)));
    for (const [k, v] of Object.entries(obj)) {
      const field = fieldSchema(schema, k);
      if (field) causes.push(...validateSchema(field, v, at(k)));
    }
  }
  return causes;
}

/** Visits a schema and every schema within it, each with its path as a definition names it (`properties[spec].items`). */
export function forEachSchema(schema: JsonSchema, path: string, visit: (s: JsonSchema, path: string) => void): void {
  visit(schema, path);
  for (const [key, property] of Object.entries(schema.properties ?? {})) forEachSchema(property, `${path}.properties[${key}]`, visit);
  if (schema.items) forEachSchema(schema.items, `${path}.items`, visit);
  if (typeof schema.additionalProperties === 'object') forEachSchema(schema.additionalProperties, `${path}.additionalProperties`, visit);
}
