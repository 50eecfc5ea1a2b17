import { ApiError, errors, fieldErrors, rfc3339 } from '../../apimachinery/index.ts';
import type { Authenticator } from '../auth/index.ts';
import type { ClusterAuthorizer } from '../auth/index.ts';
import type { ServiceAccountTokens } from '../auth/index.ts';
import type { RequestAttributes, UserInfo } from '../auth/index.ts';
import type { Registry } from './registry.ts';

// The create-only review APIs (authentication.k8s.io, authorization.k8s.io)
// and the TokenRequest subresource: nothing is stored, the answer is in status.

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

type Review = { apiVersion?: string; kind?: string; metadata?: object; spec?: Record<string, unknown>; status?: object };

export interface ReviewContext {
  user: UserInfo;
  /** the namespace of the URL (localsubjectaccessreviews) */
  namespace?: string;
  authenticator: Authenticator;
  authorizer: ClusterAuthorizer;
  apiAudiences: string[];
}

function attributesOf(spec: AccessReviewSpec, kind: string): RequestAttributes {
  const r = spec.resourceAttributes;
  const n = spec.nonResourceAttributes;
  if (r && n)
    throw errors.invalid(kind, 'authorization.k8s.io', '', [
      fieldErrors.invalid('spec.nonResourceAttributes', n, 'cannot be specified in combination with resourceAttributes'),
    ]);
  if (n) return { kind: 'nonResource', verb: n.verb ?? '', path: n.path ?? '' };
  if (!r)
    throw errors.invalid(kind, 'authorization.k8s.io', '', [
      fieldErrors.required('spec.resourceAttributes', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'),
    ]);
  return {
    kind: 'resource',
    verb: r.verb ?? '',
    apiGroup: r.group ?? '',
    resource: r.resource ?? '',
    subresource: r.subresource || undefined,
    namespace: r.namespace || undefined,
    name: r.name || undefined,
  };
}

function accessReview(body: Review, kind: string, user: UserInfo, ctx: ReviewContext): Review {
  const spec = (body.spec ?? {}) as AccessReviewSpec;
  const decision = ctx.authorizer.authorize(user, attributesOf(spec, kind));
  return {
    ...body,
    apiVersion: 'authorization.k8s.io/v1',
    kind,
    metadata: { ...(body.metadata ?? {}), creationTimestamp: null },
    status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
  };
}

function userInfoOf(u: UserInfo) {
  return { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) };
}

type ReviewHandler = (body: Review, ctx: ReviewContext) => Promise<Review>;

export const REVIEWS: Record<string, ReviewHandler> = {
  'authorization.k8s.io/selfsubjectaccessreviews': async (body, ctx) => accessReview(body, 'SelfSubjectAccessReview', ctx.user, ctx),
  'authorization.k8s.io/subjectaccessreviews': async (body, ctx) => {
    const spec = (body.spec ?? {}) as AccessReviewSpec;
    if (!spec.user && !(spec.groups ?? []).length)
      throw errors.invalid('SubjectAccessReview', 'authorization.k8s.io', '', [
        fieldErrors.invalid('spec.user', '', 'at least one of user or group must be specified'),
      ]);
    return accessReview(body, 'SubjectAccessReview', { name: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra }, ctx);
  },
  'authorization.k8s.io/localsubjectaccessreviews': async (body, ctx) => {
    const spec = (body.spec ?? {}) as AccessReviewSpec;
    if (spec.resourceAttributes?.namespace !== ctx.namespace) {
      throw errors.invalid('LocalSubjectAccessReview', 'authorization.k8s.io', '', [
        fieldErrors.invalid('spec.resourceAttributes.namespace', spec.resourceAttributes?.namespace ?? '', 'must match metadata.namespace'),
      ]);
    }
    return accessReview(body, 'LocalSubjectAccessReview', { name: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra }, ctx);
  },
  'authorization.k8s.io/selfsubjectrulesreviews': async (body, ctx) => {
    const namespace = (body.spec as { namespace?: string } | undefined)?.namespace ?? '';
    const rules = ctx.authorizer.rulesFor(ctx.user, namespace);
    return {
      ...body,
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: { creationTimestamp: null },
      status: {
        resourceRules: rules
          .filter((r) => !r.nonResourceURLs?.length)
          .map((r) => ({
            verbs: r.verbs,
            apiGroups: r.apiGroups ?? [],
            resources: r.resources ?? [],
            ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
          })),
        nonResourceRules: rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
        incomplete: false,
      },
    };
  },
  'authentication.k8s.io/tokenreviews': async (body, ctx) => {
    const spec = (body.spec ?? {}) as { token?: string; audiences?: string[] };
    if (!spec.token) throw errors.invalid('TokenReview', 'authentication.k8s.io', '', [fieldErrors.required('spec.token', 'token must be specified')]);
    // the audiences asked for, else the API server's; the answer names those the token is good for
    const found = await ctx.authenticator.authenticateToken(spec.token, spec.audiences?.length ? spec.audiences : ctx.apiAudiences);
    const status = found
      ? { authenticated: true, user: userInfoOf(found.user), audiences: found.audiences }
      : { authenticated: false, user: {}, error: 'invalid bearer token' };
    return { ...body, apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, status };
  },
  'authentication.k8s.io/selfsubjectreviews': async (body, ctx) => ({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
    metadata: { ...(body.metadata ?? {}), creationTimestamp: rfc3339() },
    status: { userInfo: userInfoOf(ctx.user) },
  }),
};

/** POST serviceaccounts/{name}/token: a bound token for the account (and optionally a pod). */
export async function requestToken(
  tokens: ServiceAccountTokens,
  serviceAccounts: Registry,
  pods: Registry,
  namespace: string,
  name: string,
  body: Review,
  apiAudiences: string[],
): Promise<Review> {
  const sa = await serviceAccounts.get(namespace, name);
  const spec = (body.spec ?? {}) as { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: { kind?: string; name?: string; uid?: string } };
  const expirationSeconds = spec.expirationSeconds ?? 3600;
  if (expirationSeconds < 600)
    throw errors.invalid('TokenRequest', 'authentication.k8s.io', name, [
      fieldErrors.invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'),
    ]);
  if (expirationSeconds > 2 ** 32)
    throw errors.invalid('TokenRequest', 'authentication.k8s.io', name, [
      fieldErrors.invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds'),
    ]);
  let pod: { name: string; uid: string } | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    if (ref.kind !== 'Pod') throw errors.badRequest(`cannot bind token to object of type ${ref.kind}`);
    const p = await pods.get(namespace, ref.name ?? '');
    if (ref.uid && ref.uid !== p.metadata.uid)
      throw new ApiError(
        'Conflict',
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    pod = { name: p.metadata.name as string, uid: p.metadata.uid as string };
  }
  const audiences = spec.audiences?.length ? spec.audiences : apiAudiences;
  const issued = await tokens.issue(
    { namespace, serviceaccount: { name, uid: sa.metadata.uid as string }, ...(pod ? { pod } : {}) },
    { audiences, expirationSeconds },
  );
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { name, namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
    status: { token: issued.token, expirationTimestamp: rfc3339(issued.expiresAt) },
  };
}
