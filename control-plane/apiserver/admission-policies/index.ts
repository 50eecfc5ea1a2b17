export { AdmissionPolicies, admissionPolicyBindingStrategy, admissionPolicyStrategy } from './policies.ts';
export type { ParamReader } from './bindings.ts';
export { MutatingAdmissionPolicies, mutatingAdmissionPolicyBindingStrategy, mutatingAdmissionPolicyStrategy } from './mutating.ts';
