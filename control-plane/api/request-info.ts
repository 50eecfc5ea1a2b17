import { unescapePathSegment } from '../../apimachinery/index.ts';

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** What a resource URL names: /api/v1/namespaces/default/pods/web/log → pods, web, log. */
export interface RequestInfo {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  /** what follows nodes/{name}/proxy/: the path on the node's kubelet */
  proxyPath?: string;
}

/** Parses a resource path, or returns null for a path that is not one (discovery, health…); a malformed escape is a 400. */
export function parseResourcePath(pathname: string): RequestInfo | null {
  const parts = pathname
    .split('/')
    .filter((p) => p.length > 0)
    .map(unescapePathSegment);
  let group = '';
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    version = parts[1] as string;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    version = parts[2] as string;
    rest = parts.slice(3);
  } else {
    return null;
  }
  let namespace: string | undefined;
  // /namespaces/{ns}/{resource}… ; /namespaces/{name}[/status|/finalize] is the namespace object itself
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.has(rest[2] as string)) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  if (!resource) return null;
  // nodes/{name}/proxy/{path…} reaches the node's kubelet API
  if (group === '' && resource === 'nodes' && subresource === 'proxy' && !namespace)
    return { group, version, resource, name, subresource, proxyPath: extra.join('/') };
  if (extra.length > 0) return null;
  return { group, version, namespace, resource, name, subresource };
}
