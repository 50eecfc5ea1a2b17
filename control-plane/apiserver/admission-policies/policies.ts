import { ApiError, fieldErrors } from '../../../apimachinery/index.ts';
import { celProgram } from '../custom-resources/cel-library.ts';
import { admissionVariables, toCel, viewedAs, type WebhookAttributes } from '../admission-webhooks/index.ts';
import { auditAnnotation } from '../audit/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { PolicyPlugin, type BindingSpecBase, type PolicySpecBase } from './bindings.ts';

// ValidatingAdmissionPolicy and its bindings (admissionregistration.k8s.io/v1):
// a write that a binding's policy matches (its match constraints and the
// binding's match resources, then its matchConditions) is checked by the
// policy's CEL validations, with `object`, `oldObject`, `request`, `params`
// (the binding's paramRef) and `variables` bound; a failed one denies, warns
// or is only audited, as the binding's validationActions say.

interface Validation {
  expression: string;
  message?: string;
  messageExpression?: string;
  reason?: 'Unauthorized' | 'Forbidden' | 'Invalid' | 'RequestEntityTooLarge';
}

export interface PolicySpec extends PolicySpecBase {
  validations?: Validation[];
  /** what a matching write adds to its audit event, under `<policy name>/<key>` */
  auditAnnotations?: { key: string; valueExpression: string }[];
}

interface BindingSpec extends BindingSpecBase {
  validationActions?: ('Deny' | 'Warn' | 'Audit')[];
}

/** A validation a write failed: what it says, the reason it denies with, and its index in the policy. */
interface Failure {
  message: string;
  reason: NonNullable<Validation['reason']>;
  index: number;
}

/** Every CEL expression of a policy, by where it is (`spec.validations[0].expression`). */
export function policyExpressions(spec: PolicySpec): [string, string][] {
  return [
    ...(spec.matchConditions ?? []).map((c, i): [string, string] => [`spec.matchConditions[${i}].expression`, c.expression]),
    ...(spec.variables ?? []).map((v, i): [string, string] => [`spec.variables[${i}].expression`, v.expression]),
    ...(spec.validations ?? []).flatMap((v, i): [string, string][] => [
      [`spec.validations[${i}].expression`, v.expression],
      ...(v.messageExpression ? ([[`spec.validations[${i}].messageExpression`, v.messageExpression]] as [string, string][]) : []),
    ]),
    ...(spec.auditAnnotations ?? []).map((x, i): [string, string] => [`spec.auditAnnotations[${i}].valueExpression`, x.valueExpression]),
  ];
}

/** A policy is refused when an expression of it does not compile (kube-apiserver reports it at once too). */
export const admissionPolicyStrategy: Strategy = {
  defaults(obj) {
    const spec = (obj.spec ??= {}) as PolicySpec;
    spec.failurePolicy ??= 'Fail';
    if (spec.matchConstraints) spec.matchConstraints.matchPolicy ??= 'Equivalent';
  },
  validate(obj) {
    const spec = (obj.spec ?? {}) as PolicySpec;
    const causes = [];
    if (!spec.validations?.length && !spec.auditAnnotations?.length)
      causes.push(fieldErrors.required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
    for (const [field, expression] of policyExpressions(spec)) {
      try {
        celProgram(expression);
      } catch (err) {
        causes.push(fieldErrors.invalid(field, expression, `compilation failed: ${(err as Error).message.split('\n')[0]}`));
      }
    }
    return causes;
  },
};

export const admissionPolicyBindingStrategy: Strategy = {
  validate(obj) {
    const spec = (obj.spec ?? {}) as BindingSpec;
    const causes = [];
    if (!spec.policyName) causes.push(fieldErrors.required('spec.policyName'));
    if (!spec.validationActions?.length) causes.push(fieldErrors.required('spec.validationActions'));
    if (spec.validationActions?.includes('Deny') && spec.validationActions.includes('Warn'))
      causes.push(fieldErrors.forbidden('spec.validationActions', 'may not contain both "Deny" and "Warn"'));
    return causes;
  },
};

const STATUS_CODE: Record<NonNullable<Validation['reason']>, number> = { Unauthorized: 401, Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };

export class AdmissionPolicies extends PolicyPlugin<PolicySpec, BindingSpec> {
  /** Checks a write against every bound policy that matches it; throws a denial, returns the warnings. */
  async validate(a: WebhookAttributes): Promise<string[]> {
    const warnings: string[] = [];
    for (const { policy, spec, bindingName, binding: b, match } of await this.matching(a)) {
      // the policy sees the write in the version its constraints name
      const failures = await this.#evaluate(policy, b, await viewedAs(a, match)).catch((err: Error) => {
        if (spec.failurePolicy === 'Ignore') {
          this.log.warn({ policy: policy.metadata.name, err: err.message }, 'admission policy failed, failing open');
          return [];
        }
        return [{ message: err.message, reason: 'Invalid' as const, index: 0 }];
      });
      const actions = b.validationActions ?? [];
      const audited = actions.includes('Audit') ? failures : [];
      if (audited.length) {
        auditAnnotation(
          'validation.policy.admission.k8s.io/validation_failure',
          JSON.stringify(
            audited.map((f) => ({
              message: f.message,
              policy: policy.metadata.name,
              binding: bindingName,
              expressionIndex: f.index,
              validationActions: actions,
            })),
          ),
        );
      }
      for (const f of failures) {
        const said = `ValidatingAdmissionPolicy '${policy.metadata.name}' with binding '${bindingName}' denied request: ${f.message}`;
        if (actions.includes('Warn'))
          warnings.push(`Validation failed for ValidatingAdmissionPolicy '${policy.metadata.name}' with binding '${bindingName}': ${f.message}`);
        if (!actions.includes('Deny')) continue;
        const resource = a.group ? `${a.resource}.${a.group}` : a.resource;
        if (f.reason === 'Invalid')
          throw new ApiError('Invalid', `${resource} "${a.name}" is invalid: : ${said}`, {
            name: a.name,
            kind: a.resource,
            causes: [{ message: said, field: '' }],
          });
        throw ApiError.fromStatus({ message: `${resource} "${a.name}" is forbidden: ${said}`, reason: f.reason }, STATUS_CODE[f.reason]);
      }
    }
    return warnings;
  }

  /**
   * The validations a write fails under one binding (each one's message, reason and index), its audit
   * annotations recorded on the way; throws when the policy cannot be evaluated.
   */
  async #evaluate(policy: Obj, b: BindingSpec, a: WebhookAttributes): Promise<Failure[]> {
    const spec = (policy.spec ?? {}) as PolicySpec;
    const failed: Failure[] = [];
    for (const params of await this.paramsFor(spec, b, a.namespace)) {
      const vars: Record<string, unknown> = { ...admissionVariables(a), params: toCel(params) };
      const variables: Record<string, unknown> = {};
      vars.variables = variables;
      const run = (expression: string) => celProgram(expression)(vars);
      const conditionsHold = (spec.matchConditions ?? []).every((c) => run(c.expression) === true);
      if (!conditionsHold) continue;
      for (const v of spec.variables ?? []) variables[v.name] = run(v.expression);
      for (const x of spec.auditAnnotations ?? []) {
        const value = run(x.valueExpression);
        // null leaves the annotation out
        if (typeof value === 'string') auditAnnotation(`${policy.metadata.name}/${x.key}`, value);
      }
      for (const [index, v] of (spec.validations ?? []).entries()) {
        let passed: unknown;
        try {
          passed = run(v.expression);
        } catch (err) {
          throw new Error(`expression '${v.expression}' resulted in error: ${(err as Error).message.split('\n')[0]}`);
        }
        if (passed === true) continue;
        let message = v.message || `failed expression: ${v.expression}`;
        if (v.messageExpression) {
          try {
            const m = run(v.messageExpression);
            if (typeof m === 'string' && m.trim()) message = m;
          } catch {
            // the static message stands, as upstream
          }
        }
        failed.push({ message, reason: v.reason ?? 'Invalid', index });
      }
    }
    return failed;
  }
}
