/** Who a request is from, as authenticators establish it (user.Info). */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a request does, in the terms RBAC rules are written in (authorizer.Attributes). */
export type RequestAttributes =
  | { kind: 'resource'; verb: string; apiGroup: string; resource: string; subresource?: string; namespace?: string; name?: string }
  | { kind: 'nonResource'; verb: string; path: string };

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export const SUPERUSER_GROUP = 'system:masters';
