export { AdmissionPolicies, admissionPolicyBindingStrategy, admissionPolicyStrategy, policyExpressions, type PolicySpec } from './policies.ts';
export type { ParamReader } from './bindings.ts';
export { MutatingAdmissionPolicies, mutatingAdmissionPolicyBindingStrategy, mutatingAdmissionPolicyStrategy } from './mutating.ts';
