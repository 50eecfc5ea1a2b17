import { ApiError, parseFieldSelector, queryBool } from '../../apimachinery/index.ts';
import { parseResourcePath } from '../api/index.ts';
import type { RequestAttributes } from './types.ts';

/** The RBAC verb of a request on a resource URL (list vs get, watch, deletecollection…). */
function resourceVerb(method: string, hasName: boolean, query: URLSearchParams): string {
  const watch = queryBool(query.get('watch'));
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** The one object a list or watch asks for with a metadata.name field selector (authorized as that name, as kube-apiserver does). */
function selectedName(query: URLSearchParams): string | undefined {
  let terms: ReturnType<typeof parseFieldSelector>;
  try {
    terms = parseFieldSelector(query.get('fieldSelector'));
  } catch {
    return undefined;
  }
  const name = terms.find((t) => t.field === 'metadata.name' && t.op === '=')?.value;
  return name && name !== '.' && name !== '..' && !/[/%]/.test(name) ? name : undefined;
}

export function requestAttributes(method: string, path: string, query: URLSearchParams): RequestAttributes {
  const info = parseResourcePath(path);
  if (!info) return { kind: 'nonResource', verb: method === 'HEAD' ? 'get' : method.toLowerCase(), path };
  // /api/v1/namespaces/{name} names a namespace object
  const verb = resourceVerb(method, info.name !== undefined, query);
  const name = info.name ?? (verb === 'list' || verb === 'watch' ? selectedName(query) : undefined);
  return { kind: 'resource', verb, apiGroup: info.group, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name };
}

/** The Forbidden error kube-apiserver gives, word for word. */
export function forbidden(user: string, a: RequestAttributes, reason = ''): ApiError {
  const why = reason ? `: ${reason}` : '';
  if (a.kind === 'nonResource') return new ApiError('Forbidden', `forbidden: User "${user}" cannot ${a.verb} path "${a.path}"${why}`);
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const qualified = a.apiGroup ? `${resource}.${a.apiGroup}` : resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  return new ApiError(
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}${why}`,
    { name: a.name, group: a.apiGroup, kind: a.resource },
  );
}
