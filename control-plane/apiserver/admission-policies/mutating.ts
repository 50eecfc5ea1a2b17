import fastJsonPatch from 'fast-json-patch';
import { ApiError, fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import { admissionVariables, toCel, viewedAs, type WebhookAttributes } from '../admission-webhooks/index.ts';
import { mergeApplied } from '../apply/managed-fields.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { PolicyPlugin, type BindingSpecBase, type PolicySpecBase } from './bindings.ts';
import { fromCel, mutationProgram } from './cel-objects.ts';

// MutatingAdmissionPolicy and its bindings (admissionregistration.k8s.io/v1beta1):
// a write a binding's policy matches (its match constraints and the binding's
// match resources, then its matchConditions) is changed by the policy's
// mutations in order, each a CEL expression over `object`, `oldObject`,
// `request`, `params` and `variables` giving either an apply configuration
// (merged as server-side apply merges) or a JSON patch. Policies run before
// the mutating webhooks; those of reinvocationPolicy IfNeeded run once more
// when a webhook changed the object after them.

interface Mutation {
  patchType?: 'ApplyConfiguration' | 'JSONPatch';
  applyConfiguration?: { expression?: string };
  jsonPatch?: { expression?: string };
}

interface MutatingPolicySpec extends PolicySpecBase {
  mutations?: Mutation[];
  reinvocationPolicy?: 'Never' | 'IfNeeded';
}

const PATCH_TYPES = ['ApplyConfiguration', 'JSONPatch'];
const OPERATIONS = ['CREATE', 'UPDATE', 'CONNECT', '*'];

const expressionOf = (m: Mutation) => (m.patchType === 'JSONPatch' ? m.jsonPatch?.expression : m.applyConfiguration?.expression);

function compiles(field: string, expression: string): StatusCause[] {
  try {
    mutationProgram(expression);
    return [];
  } catch (err) {
    return [fieldErrors.invalid(field, expression, `compilation failed: ${(err as Error).message.split('\n')[0]}`)];
  }
}

function validateMutation(m: Mutation, at: string): StatusCause[] {
  if (!m.patchType) return [fieldErrors.required(`${at}.patchType`)];
  if (!PATCH_TYPES.includes(m.patchType)) return [fieldErrors.notSupported(`${at}.patchType`, m.patchType, PATCH_TYPES)];
  const field = m.patchType === 'JSONPatch' ? 'jsonPatch' : 'applyConfiguration';
  const expression = expressionOf(m);
  if (!expression) return [fieldErrors.required(`${at}.${field}.expression`)];
  return compiles(`${at}.${field}.expression`, expression);
}

/** A policy is refused when it could never act: no constraints, no mutations, a DELETE matched, an expression that does not compile. */
export const mutatingAdmissionPolicyStrategy: Strategy = {
  defaults(obj) {
    const spec = (obj.spec ??= {}) as MutatingPolicySpec;
    spec.failurePolicy ??= 'Fail';
    if (spec.matchConstraints) spec.matchConstraints.matchPolicy ??= 'Equivalent';
  },
  validate(obj) {
    const spec = (obj.spec ?? {}) as MutatingPolicySpec;
    const causes: StatusCause[] = [];
    if (!spec.matchConstraints) causes.push(fieldErrors.required('spec.matchConstraints'));
    else if (!spec.matchConstraints.resourceRules?.length) causes.push(fieldErrors.required('spec.matchConstraints.resourceRules'));
    (spec.matchConstraints?.resourceRules ?? []).forEach((r, i) =>
      (r.operations ?? []).forEach((op, j) => {
        if (!OPERATIONS.includes(op)) causes.push(fieldErrors.notSupported(`spec.matchConstraints.resourceRules[${i}].operations[${j}]`, op, OPERATIONS));
      }),
    );
    if (!spec.mutations?.length) causes.push(fieldErrors.required('spec.mutations', 'mutations must contain at least one item'));
    (spec.mutations ?? []).forEach((m, i) => causes.push(...validateMutation(m, `spec.mutations[${i}]`)));
    if (!spec.reinvocationPolicy) causes.push(fieldErrors.required('spec.reinvocationPolicy'));
    else if (!['Never', 'IfNeeded'].includes(spec.reinvocationPolicy))
      causes.push(fieldErrors.notSupported('spec.reinvocationPolicy', spec.reinvocationPolicy, ['IfNeeded', 'Never']));
    (spec.matchConditions ?? []).forEach((c, i) => causes.push(...compiles(`spec.matchConditions[${i}].expression`, c.expression)));
    (spec.variables ?? []).forEach((v, i) => causes.push(...compiles(`spec.variables[${i}].expression`, v.expression)));
    return causes;
  },
};

export const mutatingAdmissionPolicyBindingStrategy: Strategy = {
  validate(obj) {
    const spec = (obj.spec ?? {}) as BindingSpecBase;
    return spec.policyName ? [] : [fieldErrors.required('spec.policyName')];
  },
};

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One mutation's result applied to the object: an apply configuration merged in, or a JSON patch applied. */
function applyMutation(object: Obj, m: Mutation, result: unknown): Obj {
  if (m.patchType === 'JSONPatch') {
    if (!Array.isArray(result) || !result.every(isMap)) throw new Error('JSONPatch expression must evaluate to a list of JSONPatch');
    return fastJsonPatch.applyPatch(structuredClone(object), result as unknown as fastJsonPatch.Operation[], true, false).newDocument as Obj;
  }
  if (!isMap(result)) throw new Error('ApplyConfiguration expression must evaluate to an Object');
  return mergeApplied(structuredClone(object), result) as Obj;
}

export class MutatingAdmissionPolicies extends PolicyPlugin<MutatingPolicySpec, BindingSpecBase> {
  /**
   * The write's object after every bound policy that takes it made its
   * mutations (on reinvocation, only the policies of IfNeeded); throws where
   * a policy failing under failurePolicy Fail refuses the write.
   */
  async mutate(a: WebhookAttributes, reinvocation = false): Promise<Obj | undefined> {
    let object = a.object;
    for (const { policy, spec, bindingName, binding, match } of await this.matching(a)) {
      if (!object) break;
      if (reinvocation && spec.reinvocationPolicy !== 'IfNeeded') continue;
      try {
        for (const params of await this.paramsFor(spec, binding, a.namespace)) {
          // the policy works on the write in the version its constraints name
          const seen = await viewedAs({ ...a, object }, match);
          const mutated = this.#evaluate(spec, seen, params);
          if (mutated) object = match.as === 'equivalent' ? await match.resource.fromEquivalent(mutated) : mutated;
        }
      } catch (err) {
        const said = `policy '${policy.metadata.name}' with binding '${bindingName}' denied request: ${(err as Error).message.split('\n')[0]}`;
        if (spec.failurePolicy === 'Ignore') {
          this.log.warn({ err: said }, 'mutating admission policy failed, failing open');
          continue;
        }
        throw new ApiError('Forbidden', said, { name: a.name, ...(a.group ? { group: a.group } : {}), kind: a.resource, causes: [{ message: said }] });
      }
    }
    return object;
  }

  /** One evaluation of a policy: its mutations in turn, each seeing the last one's result; undefined where its conditions do not hold. */
  #evaluate(spec: MutatingPolicySpec, a: WebhookAttributes, params: unknown): Obj | undefined {
    let object = a.object as Obj;
    const bind = () => {
      const vars: Record<string, unknown> = { ...admissionVariables({ ...a, object }), params: toCel(params) };
      const variables: Record<string, unknown> = {};
      vars.variables = variables;
      for (const v of spec.variables ?? []) variables[v.name] = mutationProgram(v.expression)(vars);
      return vars;
    };
    const first = { ...admissionVariables(a), params: toCel(params) };
    if (!(spec.matchConditions ?? []).every((c) => mutationProgram(c.expression)(first) === true)) return undefined;
    for (const m of spec.mutations ?? []) {
      const result = fromCel(mutationProgram(expressionOf(m) ?? '')(bind()));
      object = applyMutation(object, m, result);
    }
    return object;
  }
}
