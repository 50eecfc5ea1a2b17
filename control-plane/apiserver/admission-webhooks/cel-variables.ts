import type { WebhookAttributes } from './dispatcher.ts';

// What CEL expressions of admission (webhooks' matchConditions, admission
// policies) see of a write: object, oldObject and request, with JSON
// integers as ints, as kube-apiserver binds them.

/** JSON as CEL sees it in kube-apiserver: integers are ints (int64), not doubles. */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

export function admissionVariables(a: WebhookAttributes): Record<string, unknown> {
  const requested = a.requested ?? a;
  return {
    object: toCel(a.object ?? null),
    oldObject: toCel(a.oldObject ?? null),
    request: toCel({
      operation: a.operation,
      name: a.name,
      namespace: a.namespace,
      kind: { group: a.group, version: a.version, kind: a.kind },
      resource: { group: a.group, version: a.version, resource: a.resource },
      subResource: a.subresource,
      requestKind: { group: requested.group, version: requested.version, kind: requested.kind },
      requestResource: { group: requested.group, version: requested.version, resource: requested.resource },
      requestSubResource: a.subresource,
      userInfo: { username: a.user.name, groups: a.user.groups },
      dryRun: a.dryRun,
    }),
  };
}
