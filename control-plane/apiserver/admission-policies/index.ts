export { AdmissionPolicies, admissionPolicyBindingStrategy, admissionPolicyStrategy, type ParamReader } from './policies.ts';
