import { celProgram } from './cel-library.ts';
import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import { fieldSchema, forEachSchema, mapListKey, type JsonSchema } from './validation.ts';

// x-kubernetes-validations: CEL rules of a CRD's schema, evaluated with
// `self` bound to the value where a rule is declared (integers as CEL ints)
// and `oldSelf` to its previous value on an update. A rule that names
// oldSelf (a transition rule) is skipped where there is no old value: on
// create, for a new key or map-list item, and inside other lists, whose items
// are not matched up old to new (map lists match theirs by their keys).

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** Rules and message expressions that do not compile (checked when a definition is written). */
export function invalidRules(schema: JsonSchema, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  forEachSchema(schema, path, (s, at) => {
    (s['x-kubernetes-validations'] ?? []).forEach((rule, i) => {
      for (const key of ['rule', 'messageExpression'] as const) {
        const expression = rule[key];
        if (expression === undefined) continue;
        try {
          celProgram(expression);
        } catch (err) {
          causes.push(
            fieldErrors.invalid(`${at}.x-kubernetes-validations[${i}].${key}`, expression, `compilation failed: ${(err as Error).message.split('\n')[0]}`),
          );
        }
      }
    });
  });
  return causes;
}

/** The value as CEL sees it: integer fields as ints (BigInt), not doubles. */
function toCel(schema: JsonSchema | undefined, value: unknown): unknown {
  if (value === null || value === undefined || !schema) return value;
  if (schema.type === 'integer' && Number.isInteger(value)) return BigInt(value as number);
  if (Array.isArray(value)) return value.map((v) => toCel(schema.items, v));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(fieldSchema(schema, k), v)]));
  return value;
}

function violation(rule: ValidationRule, path: string, type: string, message: string): StatusCause {
  const field = rule.fieldPath ? [path, rule.fieldPath.replace(/^\./, '')].filter(Boolean).join('.') : path;
  switch (rule.reason) {
    case 'FieldValueForbidden':
      return fieldErrors.forbidden(field, message);
    case 'FieldValueRequired':
      return fieldErrors.required(field, message);
    case 'FieldValueDuplicate':
      return { ...fieldErrors.duplicate(field, type), message: `Duplicate value: ${JSON.stringify(type)}: ${message}` };
    default:
      return fieldErrors.invalid(field, type, message);
  }
}

/** One rule at one value; `self` and `oldSelf` are the value and its old one as CEL sees them (oldSelf undefined: no old value). */
function check(rule: ValidationRule, type: string, self: unknown, oldSelf: unknown, path: string): StatusCause | undefined {
  const transition = /\boldSelf\b/.test(rule.rule);
  if (transition && oldSelf === undefined) return undefined;
  const vars = { self, ...(transition ? { oldSelf } : {}) };
  try {
    if (celProgram(rule.rule)(vars) === true) return undefined;
  } catch (err) {
    return fieldErrors.invalid(path, type, `rule evaluation error: ${(err as Error).message.split('\n')[0]}`);
  }
  let message = rule.message || `failed rule: ${rule.rule}`;
  if (rule.messageExpression) {
    try {
      const m = celProgram(rule.messageExpression)(vars);
      if (typeof m === 'string' && m.trim()) message = m;
    } catch {
      // upstream falls back to message (or the rule) when messageExpression fails
    }
  }
  return violation(rule, path, type, message);
}

/** Every rule the value breaks, walking the schema; `old` is the stored value on an update. */
export function celViolations(schema: JsonSchema, value: unknown, old: unknown, path: string): StatusCause[] {
  if (value === undefined || value === null) return [];
  const causes: StatusCause[] = [];
  const rules = schema['x-kubernetes-validations'] ?? [];
  if (rules.length > 0) {
    // converted once for all the rules of this value
    const [self, oldSelf] = [toCel(schema, value), toCel(schema, old)];
    for (const rule of rules) {
      const cause = check(rule, schema.type ?? 'object', self, oldSelf, path);
      if (cause) causes.push(cause);
    }
  }
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (Array.isArray(value)) {
    const olds = new Map<string, unknown>();
    if (Array.isArray(old))
      for (const item of old) {
        const key = mapListKey(schema, item);
        if (key !== undefined) olds.set(key, item);
      }
    const oldItem = (item: unknown) => {
      const key = mapListKey(schema, item);
      return key === undefined ? undefined : olds.get(key);
    };
    if (schema.items) value.forEach((item, i) => causes.push(...celViolations(schema.items as JsonSchema, item, oldItem(item), `${path}[${i}]`)));
  } else if (typeof value === 'object') {
    const before = old !== null && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(value)) {
      const field = fieldSchema(schema, k);
      if (field) causes.push(...celViolations(field, v, before[k], at(k)));
    }
  }
  return causes;
}
