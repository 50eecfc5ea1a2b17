import { createHash } from 'node:crypto';
import type { ResourceInfo } from './resource-info.ts';
import { gvkKey, REF_PREFIX, schemaClosure, type ModelSchemas } from './openapi/model-schemas.ts';

// OpenAPI v3 discovery as clients read it (and the v2 document older ones fetch): GET /openapi/v3 lists one
// document per group-version, and each document names every operation with
// its x-kubernetes-group-version-kind / x-kubernetes-action, with the
// schemas of its kinds (what `kubectl explain` reads). kubectl also looks for
// `fieldValidation` among PATCH's parameters to choose server-side validation.

const VERSION = 'v1.34.0-skiff';
const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
}));

function gvPath(r: Pick<ResourceInfo, 'group' | 'version'>): string {
  return r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
}

/** Every operation on one resource, with `response` giving the schema of an object's replies in the document's form. */
function resourcePaths(r: ResourceInfo, models: ModelSchemas, response: (schemaName: string) => object, params: object[]): Record<string, object> {
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const schemaName = models.kinds[gvkKey(gvk)];
  const content = schemaName ? response(schemaName) : {};
  const op = (action: string, extra: object = {}) => ({
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    responses: { '200': { description: 'OK', ...(action === 'list' || action === 'deletecollection' ? {} : content) } },
    ...extra,
  });
  const writes = { parameters: params };
  const base = `/${gvPath(r)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`;
  const paths: Record<string, object> = {
    [base]: { get: op('list'), post: op('post', writes), delete: op('deletecollection') },
    [`${base}/{name}`]: { get: op('get'), put: op('put', writes), patch: op('patch', writes), delete: op('delete') },
  };
  if ((r.subresources ?? []).includes('status')) paths[`${base}/{name}/status`] = { get: op('get'), put: op('put', writes), patch: op('patch', writes) };
  return paths;
}

const rootsOf = (resources: ResourceInfo[], models: ModelSchemas) => resources.map((r) => models.kinds[gvkKey(r)]).filter((n): n is string => n !== undefined);

/** The OpenAPI v3 document of one group-version, or null if none is served. */
export function openApiDocument(resources: ResourceInfo[], path: string, models: ModelSchemas): object | null {
  const mine = resources.filter((r) => gvPath(r) === path);
  if (mine.length === 0) return null;
  const json = (schemaName: string) => ({ content: { 'application/json': { schema: { $ref: REF_PREFIX + schemaName } } } });
  const paths = Object.assign({}, ...mine.map((r) => resourcePaths(r, models, json, QUERY_PARAMS)));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: VERSION },
    paths,
    components: { schemas: schemaClosure(models.schemas, rootsOf(mine, models)) },
  };
}

const V2_REF_PREFIX = '#/definitions/';
const V2_QUERY_PARAMS = QUERY_PARAMS.map(({ name }) => ({ name, in: 'query', type: 'string', uniqueItems: true }));

const v2Ref = (ref: string) => V2_REF_PREFIX + ref.slice(REF_PREFIX.length);

type JsonSchema = Record<string, unknown>;
const isSchema = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);
const mapValues = (o: JsonSchema, f: (v: JsonSchema) => JsonSchema) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, isSchema(v) ? f(v) : v]));

/**
 * A v3 schema in Swagger 2.0 form, as kube-apiserver publishes CRD schemas
 * in v2: references point into definitions and stand beside their
 * description rather than in an allOf; what v2 cannot say (anyOf, oneOf, not,
 * other allOf, nullable) goes, and where a value may be null or hold unknown
 * fields its type and fields go too, so kubectl's client-side validation
 * takes any value there rather than refusing what the server accepts.
 */
function toV2Schema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'allOf' && Array.isArray(value) && value.length === 1 && typeof value[0]?.$ref === 'string') out.$ref = v2Ref(value[0].$ref);
    else if (key === '$ref' && typeof value === 'string') out.$ref = v2Ref(value);
    else if (key === 'properties' && isSchema(value)) out.properties = mapValues(value, toV2Schema);
    else if ((key === 'items' || key === 'additionalProperties') && isSchema(value)) out[key] = toV2Schema(value);
    else if (!['allOf', 'anyOf', 'oneOf', 'not', 'nullable'].includes(key)) out[key] = value;
  }
  const untyped = schema.nullable === true || schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (untyped) {
    delete out.items;
    delete out.properties;
    if (schema.nullable === true || out.type === 'object') delete out.type;
  }
  if (out.type === 'array' && !out.items) delete out.type;
  // a field that may be null may be missing as far as kubectl can tell
  if (Array.isArray(out.required)) {
    const props = isSchema(schema.properties) ? schema.properties : {};
    const required = out.required.filter((f) => !(props[f] as JsonSchema | undefined)?.nullable);
    if (required.length && !(schema.additionalProperties as JsonSchema | undefined)?.nullable) out.required = required;
    else delete out.required;
  }
  return out;
}

/**
 * GET /openapi/v2: one Swagger 2.0 document for every served resource,
 * built from the same schemas as v3; served as JSON, or in protobuf
 * (openapi/v2-protobuf.ts) to the clients that ask for that.
 */
export function openApiV2Document(resources: ResourceInfo[], models: ModelSchemas): object {
  const json = (schemaName: string) => ({ schema: { $ref: V2_REF_PREFIX + schemaName } });
  const paths = Object.assign({}, ...resources.map((r) => resourcePaths(r, models, json, V2_QUERY_PARAMS)));
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: VERSION },
    consumes: ['application/json'],
    produces: ['application/json'],
    paths,
    definitions: mapValues(schemaClosure(models.schemas, rootsOf(resources, models)) as JsonSchema, toV2Schema),
  };
}

/** GET /openapi/v3: where each group-version's document is. */
export function openApiIndex(resources: ResourceInfo[], models: ModelSchemas): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of resources) {
    const p = gvPath(r);
    if (paths[p]) continue;
    const hash = createHash('sha256')
      .update(JSON.stringify(openApiDocument(resources, p, models)))
      .digest('hex')
      .slice(0, 32)
      .toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}
