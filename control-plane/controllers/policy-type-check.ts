import type { Environment } from '@marcbachmann/cel-js';
import { celEnvironment } from '../apiserver/custom-resources/cel-library.ts';

// Type checking of a ValidatingAdmissionPolicy's expressions against the
// schemas of the kinds it matches, as kube-controller-manager reports it in
// the policy's status.typeChecking: `object` and `oldObject` typed by the
// kind's OpenAPI schema (objects as named types, lists and maps of them,
// scalars; int-or-string, formatted strings and unknown fields left dynamic),
// everything else dynamic. Only what a schema decides is reported: a field
// the kind does not have, an operator or function its type does not take.

/** An OpenAPI v3 schema, as /openapi/v3 serves it. */
export interface OpenApiSchema {
  type?: string;
  format?: string;
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: OpenApiSchema | boolean;
  items?: OpenApiSchema;
  $ref?: string;
  allOf?: OpenApiSchema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** A kind a policy matches: how warnings name it, its schema and the document's components its references point into. */
export interface CheckedKind {
  /** `apps/v1, Kind=Deployment`, as Kubernetes prints a group version kind */
  label: string;
  schema: OpenApiSchema;
  components: Record<string, OpenApiSchema>;
}

export interface ExpressionWarning {
  fieldRef: string;
  warning: string;
}

/** deeper than this (recursive schemas) a field is dynamic */
const MAX_DEPTH = 12;
const SCALARS: Record<string, string> = { integer: 'int', number: 'double', boolean: 'bool', string: 'string' };

/** An environment where `object` and `oldObject` have the kind's types. */
function typedEnvironment(kind: CheckedKind): Environment {
  const env = celEnvironment.clone();
  const resolve = (s: OpenApiSchema): OpenApiSchema => {
    const ref = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0]?.$ref : undefined);
    if (!ref) return s;
    return resolve(kind.components[ref.slice(ref.lastIndexOf('/') + 1)] ?? {});
  };
  const typeOf = (given: OpenApiSchema, name: string, depth: number): string => {
    const s = resolve(given);
    if (depth > MAX_DEPTH || s['x-kubernetes-int-or-string'] || s.format) return 'dyn';
    if (s.type && SCALARS[s.type]) return SCALARS[s.type] as string;
    if (s.type === 'array') return `list<${s.items ? typeOf(s.items, name, depth + 1) : 'dyn'}>`;
    if (s.properties && !s['x-kubernetes-preserve-unknown-fields']) {
      const fields = Object.fromEntries(Object.entries(s.properties).map(([field, fs]) => [field, typeOf(fs, `${name}.${field}`, depth + 1)]));
      env.registerType(name, { fields });
      // an object may be compared with null, as CEL's message types may
      env.registerOperator(`${name} == null`, (a: unknown, b: unknown) => a === b);
      return name;
    }
    if (typeof s.additionalProperties === 'object') return `map<string, ${typeOf(s.additionalProperties, name, depth + 1)}>`;
    return 'dyn';
  };
  const objectType = typeOf(kind.schema, 'Object', 0);
  env.registerVariable('object', objectType);
  env.registerVariable('oldObject', objectType);
  return env;
}

/** Where an error is, as cel-go prints it: `<input>:line:column:` and the line with a caret under the place. */
function located(expression: string, position: number | undefined, message: string): string {
  if (position === undefined) return `ERROR: <input>: ${message}`;
  const before = expression.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n') - 1;
  const text = expression.split('\n')[line - 1] ?? '';
  return `ERROR: <input>:${line}:${column + 1}: ${message}\n | ${text}\n | ${'.'.repeat(column)}^`;
}

/** The expressions that do not type check against one or more of the kinds, each with what is wrong for each kind. */
export function typeCheck(expressions: [fieldRef: string, expression: string][], kinds: CheckedKind[]): ExpressionWarning[] {
  const envs = kinds.flatMap((k) => {
    try {
      return [{ label: k.label, env: typedEnvironment(k) }];
    } catch {
      // a schema the checker cannot type is not checked against (kube-controller-manager reports nothing then either)
      return [];
    }
  });
  const warnings: ExpressionWarning[] = [];
  for (const [fieldRef, expression] of expressions) {
    const found: string[] = [];
    for (const { label, env } of envs) {
      let result: ReturnType<Environment['check']>;
      try {
        result = env.check(expression);
      } catch {
        // what does not parse was refused when the policy was written
        continue;
      }
      if (result.valid) continue;
      const error = result.error as (Error & { node?: { pos?: number } }) | undefined;
      found.push(`${label}: ${located(expression, error?.node?.pos, (error?.message ?? 'type error').split('\n')[0] as string)}`);
    }
    if (found.length) warnings.push({ fieldRef, warning: found.join('\n') });
  }
  return warnings;
}
