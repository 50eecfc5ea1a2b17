/** Identifies a resource collection, object or subresource on the API server. */
export interface ResourceRef {
  group?: string;
  version?: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** /api/v1/namespaces/default/pods/web/status, /apis/coordination.k8s.io/v1/… */
export function resourcePath(r: ResourceRef): string {
  const version = r.version ?? 'v1';
  let p = r.group ? `/apis/${r.group}/${version}` : `/api/${version}`;
  if (r.namespace) p += `/namespaces/${encodeURIComponent(r.namespace)}`;
  p += `/${r.resource}`;
  if (r.name) p += `/${encodeURIComponent(r.name)}`;
  if (r.subresource) p += `/${r.subresource}`;
  return p;
}

/** An apiVersion's group and version: `apps/v1` is apps and v1, `v1` the core group's v1. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}
