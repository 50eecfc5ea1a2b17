import { ApiError, errors } from '../../apimachinery/index.ts';
import { gvkKey, type ModelSchemas } from './openapi/model-schemas.ts';
import { checkDecoded, zeroNulls } from './openapi/decode-check.ts';
import type { Obj, ResourceInfo } from './resource-info.ts';

// The fieldValidation query parameter of create, update and patch: unknown
// fields are always dropped; Strict refuses the request instead, Warn (the
// default) names each one in a Warning header, Ignore says nothing.

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';
const MODES: readonly FieldValidation[] = ['Ignore', 'Warn', 'Strict'];

export function fieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (!MODES.includes(v as FieldValidation)) throw errors.badRequest(`fieldValidation parameter unsupported: ${v}, valid values are ${MODES.join(', ')}`);
  return v as FieldValidation;
}

/**
 * Refuses values of the wrong type (but for unstructured kinds) and drops the fields the kind does not
 * have; returns the warnings to send, or throws under Strict.
 */
export function checkUnknownFields(schemas: ModelSchemas, info: ResourceInfo, obj: Obj, mode: FieldValidation): string[] {
  const name = schemas.kinds[gvkKey(info)];
  const schema = name ? schemas.schemas[name] : undefined;
  if (!schema) return [];
  const cannot = `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}`;
  // a custom resource's schema says itself what null may mean (nullable)
  if (!info.unstructured) zeroNulls(schemas.schemas, schema, obj);
  const found = checkDecoded(schemas.schemas, schema, obj);
  if (found.mistyped.length && !info.unstructured) throw new ApiError('BadRequest', `${cannot}: ${found.mistyped.join(', ')}`);
  const unknown = found.unknown.map((path) => `unknown field "${path}"`);
  if (unknown.length === 0 || mode === 'Ignore') return [];
  if (mode === 'Strict') throw new ApiError('BadRequest', `${cannot}: strict decoding error: ${unknown.join(', ')}`);
  return unknown;
}

/** Warning header values (RFC 7234 code 299) for the given messages. */
export function warningHeaders(messages: string[]): Record<string, string[]> {
  return messages.length ? { warning: messages.map((m) => `299 - ${JSON.stringify(m)}`) } : {};
}
