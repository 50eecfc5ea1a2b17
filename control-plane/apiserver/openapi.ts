import { createHash } from 'node:crypto';
import type { ResourceInfo } from './resource-info.ts';
import { gvkKey, REF_PREFIX, schemaClosure, type ModelSchemas } from './openapi/model-schemas.ts';

// OpenAPI v3 discovery as clients read it: GET /openapi/v3 lists one
// document per group-version, and each document names every operation with
// its x-kubernetes-group-version-kind / x-kubernetes-action, with the
// schemas of its kinds (what `kubectl explain` reads). kubectl also looks for
// `fieldValidation` among PATCH's parameters to choose server-side validation.

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));

function gvPath(r: Pick<ResourceInfo, 'group' | 'version'>): string {
  return r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
}

/** The OpenAPI v3 document of one group-version, or null if none is served. */
export function openApiDocument(resources: ResourceInfo[], path: string, models: ModelSchemas): object | null {
  const mine = resources.filter((r) => gvPath(r) === path);
  if (mine.length === 0) return null;
  const paths: Record<string, object> = {};
  const roots: string[] = [];
  for (const r of mine) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const schemaName = models.kinds[gvkKey(gvk)];
    if (schemaName) roots.push(schemaName);
    const content = schemaName ? { content: { 'application/json': { schema: { $ref: REF_PREFIX + schemaName } } } } : {};
    const op = (action: string, extra: object = {}) => ({ 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, responses: { '200': { description: 'OK', ...(action === 'list' || action === 'deletecollection' ? {} : content) } }, ...extra });
    const base = `/${gvPath(r)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`;
    paths[base] = { get: op('list'), post: op('post', { parameters: QUERY_PARAMS }), delete: op('deletecollection') };
    paths[`${base}/{name}`] = { get: op('get'), put: op('put', { parameters: QUERY_PARAMS }), patch: op('patch', { parameters: QUERY_PARAMS }), delete: op('delete') };
    for (const sub of r.subresources ?? []) {
      if (sub === 'status') paths[`${base}/{name}/status`] = { get: op('get'), put: op('put', { parameters: QUERY_PARAMS }), patch: op('patch', { parameters: QUERY_PARAMS }) };
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.34.0-skiff' }, paths, components: { schemas: schemaClosure(models.schemas, roots) } };
}

/** GET /openapi/v3: where each group-version's document is. */
export function openApiIndex(resources: ResourceInfo[], models: ModelSchemas): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of resources) {
    const p = gvPath(r);
    if (paths[p]) continue;
    const hash = createHash('sha256').update(JSON.stringify(openApiDocument(resources, p, models))).digest('hex').slice(0, 32).toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}

