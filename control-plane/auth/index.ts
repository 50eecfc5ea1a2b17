// Who a request is from and what it may do: authentication, the Node
// authorizer then RBAC, impersonation, RBAC's escalation guard, the default
// policy, and service account tokens.
export { Authenticator } from './authenticator.ts';
export { ClusterAuthorizer } from './authorizer.ts';
export { forbidden, requestAttributes } from './attributes.ts';
export { impersonate } from './impersonation.ts';
export { checkEscalation } from './escalation.ts';
export { nodeNameOf } from './node-authorizer.ts';
export { BOOTSTRAP_BINDINGS, BOOTSTRAP_ROLES, COMPONENT_USERS } from './bootstrap-policy.ts';
export { BootstrapTokenAuthenticator, ServiceAccountAuthenticator, StaticTokenFile } from './token-authenticators.ts';
export type { TokenAuthenticator } from './token-authenticators.ts';
export { ServiceAccountTokens } from './service-account-token.ts';
export type { LegacyClaims } from './service-account-token.ts';
export type { PolicyRule, RequestAttributes, UserInfo } from './types.ts';
