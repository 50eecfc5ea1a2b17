export { NetworkPolicyEnforcer, removePolicyTable } from './policy-enforcer.ts';
export { policyTableModel, policyTypes, renderPolicyDelta, renderPolicyTable, type PolicyTableModel, type PolicyWorld } from './policy-model.ts';
export { policyTable } from './policy-enforcer.ts';
