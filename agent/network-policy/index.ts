export { NetworkPolicyEnforcer, removePolicyTable } from './policy-enforcer.ts';
export { policyTypes, renderPolicyTable, type PolicyWorld } from './policy-model.ts';
export { policyTable } from './policy-enforcer.ts';
