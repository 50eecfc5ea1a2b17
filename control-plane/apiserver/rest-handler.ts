import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, errors, fieldErrors, qualifiedResource, queryBool, queryInt } from '../../apimachinery/index.ts';
import { applyPatch, patchKindOf } from './patch.ts';
import type { Registry } from './registry.ts';
import { checkWatchOptions } from './list-read.ts';
import type { RequestInfo } from '../api/index.ts';
import { apiVersionOf, type Obj } from './resource-info.ts';
import { readBody, sendJson, sendJsonList } from './http-util.ts';
import { toTable, wantsTable } from './table.ts';
import { COMPONENT_STATUSES, componentStatuses } from './component-statuses.ts';
import { serveWatch } from './watch-stream.ts';
import { REVIEWS } from './reviews.ts';
import { deleteOptions, dryRun, listOptions, unsupportedPatch } from './request-options.ts';
import { SUBRESOURCES, serveSubresource } from './subresources.ts';
import { checkEscalation, type UserInfo } from '../auth/index.ts';
import { admitNodeRestriction, restrictsWrite, type NodeWrite } from './node-restriction.ts';
import { admitCreate, admitDelete, admitUpdate, deleteIsAdmitted, updateIsAdmitted } from './admission.ts';
import { registryKey, type RestContext } from './rest-context.ts';
import { METRICS_GROUP, serveResourceMetrics } from './resource-metrics.ts';
import { checkUnknownFields, fieldValidation, warningHeaders } from './field-validation.ts';
import { fieldManager, serverSideApply } from './apply/apply-request.ts';

export type { RestContext } from './rest-context.ts';
export { registryKey } from './rest-context.ts';

/** Where the registry of one served version of a custom resource is kept (each version presents the same stored objects). */
export function servedVersionKey(group: string, version: string, resource: string): string {
  return `${group}/${version}/${resource}`;
}

/** The registry answering for the request's group, version and resource, if that version is served. */
function servingRegistry(registries: Map<string, Registry>, info: RequestInfo): Registry | undefined {
  const version = registries.get(servedVersionKey(info.group, info.version, info.resource));
  if (version) return version;
  const main = registries.get(registryKey(info.group, info.resource));
  return main && !main.info.unstructured && main.info.version === info.version ? main : undefined;
}

/** Serves one request on a resource URL. */
export async function handleResource(ctx: RestContext, user: UserInfo, info: RequestInfo, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const review = REVIEWS[`${info.group}/${info.resource}`];
  if (review && info.version === 'v1' && !info.name) {
    if (req.method !== 'POST') throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    const body = (await readBody(req)) as Parameters<typeof review>[0];
    return sendJson(res, 201, await review(body, { ...ctx.auth, user, namespace: info.namespace }));
  }
  if (info.group === '' && info.resource === COMPONENT_STATUSES.resource && info.version === 'v1') {
    if (req.method !== 'GET' || info.subresource) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const all = await componentStatuses(ctx.registries.get(registryKey('coordination.k8s.io', 'leases')) as Registry);
    const items = info.name ? all.filter((s) => s.metadata.name === info.name) : all;
    if (info.name && !items.length) throw errors.notFound(COMPONENT_STATUSES.resource, '', info.name);
    if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(COMPONENT_STATUSES, items, { accept: req.headers.accept }));
    return sendJson(res, 200, info.name ? items[0] : { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items });
  }
  if (info.group === METRICS_GROUP && info.version === 'v1beta1') {
    if (req.method !== 'GET' || info.subresource) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const registry = (r: string) => ctx.registries.get(registryKey('', r)) as Registry;
    return sendJson(
      res,
      200,
      await serveResourceMetrics({
        nodes: registry('nodes'),
        pods: registry('pods'),
        kubelet: ctx.kubelet,
        resource: info.resource,
        namespace: info.namespace,
        name: info.name,
        query: url.searchParams,
      }),
    );
  }
  const reg = servingRegistry(ctx.registries, info);
  if (!reg) throw new ApiError('NotFound', 'the server could not find the requested resource');
  const q = url.searchParams;
  const { name, subresource } = info;
  const namespace = reg.info.namespaced ? info.namespace : undefined;
  if (reg.info.namespaced && name && !namespace) throw new ApiError('NotFound', 'the server could not find the requested resource');
  if (subresource && !(reg.info.subresources ?? []).includes(subresource)) throw new ApiError('NotFound', 'the server could not find the requested resource');
  const accept = req.headers.accept;
  const table = wantsTable(accept);
  const render = (obj: Obj) =>
    table ? toTable(reg.info, [obj], { accept, includeObject: q.get('includeObject') ?? undefined, resourceVersion: obj.metadata.resourceVersion }) : obj;
  const method = req.method ?? 'GET';
  const admission = { ctx, reg, user, namespace, warnings: [] as string[], dryRun: q.get('dryRun') === 'All' };
  // warnings of the decoder and of admission (a patch retried on conflict may say one twice)
  const warned = (decoder: string[]) => warningHeaders([...new Set([...decoder, ...admission.warnings])]);
  const resourceName = qualifiedResource(reg.info.resource, reg.info.group);
  // NodeRestriction, for writes by nodes to what it guards: the stored object (`old`) is read only for those
  const restrictNode = async (w: Omit<NodeWrite, 'user' | 'resource' | 'old'>, old?: () => Promise<Obj | undefined>) => {
    if (!restrictsWrite(user, resourceName)) return;
    admitNodeRestriction({ ...w, user, resource: resourceName, old: await old?.() });
  };
  const stored = (r: Registry, ns: string | undefined, n: string) => () =>
    r.get(ns, n).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    });
  const special = name && subresource ? SUBRESOURCES[subresource] : undefined;
  if (special && name && subresource)
    return serveSubresource(special, method, { ctx, reg, req, res, url, namespace, name, subresource, proxyPath: info.proxyPath, restrictNode, stored });
  const guardRbac = (obj: Obj) => {
    if (reg.info.group === 'rbac.authorization.k8s.io' && obj?.metadata)
      checkEscalation(ctx.auth.authorizer, user, reg.info.resource, { ...obj, metadata: { ...obj.metadata, namespace } });
  };

  if (method === 'GET' && !name) {
    const opts = listOptions(reg, namespace, q);
    if (queryBool(q.get('watch'))) {
      const timeoutSeconds = queryInt(q, 'timeoutSeconds') ?? 1800;
      const sendInitialEvents = queryBool(q.get('sendInitialEvents'));
      checkWatchOptions(q);
      return serveWatch(
        {
          registry: reg,
          opts,
          resourceVersion: q.get('resourceVersion') ?? '',
          timeoutSeconds,
          bookmarks: queryBool(q.get('allowWatchBookmarks')),
          sendInitialEvents,
          render,
          ...ctx.watch,
          log: ctx.log,
        },
        res,
        ctx.closing,
      );
    }
    const list = await reg.list(opts);
    const apiVersion = apiVersionOf(reg.info);
    if (table)
      return sendJson(
        res,
        200,
        toTable(reg.info, list.items, {
          accept,
          includeObject: q.get('includeObject') ?? undefined,
          resourceVersion: list.resourceVersion,
          continue: list.continue,
        }),
      );
    const metadata = { resourceVersion: list.resourceVersion, ...(list.continue ? { continue: list.continue } : {}) };
    const head = `{"kind":"${reg.info.kind}List","apiVersion":"${apiVersion}","metadata":${JSON.stringify(metadata)},"items":`;
    if (list.json) return sendJsonList(res, head, list.json, (json) => json);
    return sendJsonList(res, head, list.items, (item) => JSON.stringify(item));
  }

  if (method === 'GET' && name) {
    return sendJson(res, 200, render(await reg.get(namespace, name)));
  }

  if (method === 'POST' && !name) {
    if (reg.info.namespaced && !namespace) throw new ApiError('NotFound', 'the server could not find the requested resource');
    const body = (await readBody(req)) as Obj;
    const warnings = checkUnknownFields(ctx.schemas, reg.info, body, fieldValidation(q));
    reg.checkShape(body);
    await admitCreate(admission, body);
    guardRbac(body);
    const created = await reg.create(namespace, body, { dryRun: dryRun(q), fieldManager: fieldManager(req, q) });
    return sendJson(res, 201, created, warned(warnings));
  }

  if (method === 'PUT' && name && (!subresource || ['status', 'approval', 'finalize', 'ephemeralcontainers'].includes(subresource))) {
    const body = (await readBody(req)) as Obj;
    const warnings = checkUnknownFields(ctx.schemas, reg.info, body, fieldValidation(q));
    reg.checkShape(body);
    guardRbac({ ...body, metadata: { ...body.metadata, name, namespace } });
    await restrictNode({ operation: 'update', subresource, name, obj: body }, stored(reg, namespace, name));
    if (updateIsAdmitted(admission, subresource)) await admitUpdate(admission, { subresource, obj: body, old: await reg.get(namespace, name) });
    return sendJson(
      res,
      200,
      await reg.update(namespace, name, body, { subresource, dryRun: dryRun(q), fieldManager: fieldManager(req, q) }),
      warned(warnings),
    );
  }

  if (method === 'PATCH' && name && (!subresource || ['status', 'approval', 'ephemeralcontainers'].includes(subresource))) {
    const kind = patchKindOf(req.headers['content-type']);
    // custom resources have no patch strategy to merge by, as in Kubernetes
    const strategic = !reg.info.unstructured;
    if (kind === null || (kind === 'strategic' && !strategic)) throw unsupportedPatch({ apply: true, strategic });
    const patch = await readBody(req, { allowPatchTypes: true });
    const validation = fieldValidation(q);
    if (kind === 'apply') {
      await restrictNode({ operation: 'update', subresource, name, obj: patch as Obj }, stored(reg, namespace, name));
      const opts = { fieldManager: q.get('fieldManager'), force: queryBool(q.get('force')), dryRun: dryRun(q), validation };
      const deps = { schemas: ctx.schemas, admitCreate: (obj: Obj) => admitCreate(admission, obj), guard: guardRbac };
      const { obj, created, warnings } = await serverSideApply(reg, { namespace, name, subresource: subresource ?? '' }, patch, opts, deps);
      return sendJson(res, created ? 201 : 200, obj, warned(warnings));
    }
    if (q.get('force') !== null)
      throw errors.invalid('PatchOptions', 'meta.k8s.io', '', [fieldErrors.forbidden('force', 'may not be specified for non-apply patch')]);
    let warnings: string[] = [];
    const updated = await reg.guaranteedUpdate(
      namespace,
      name,
      async (current) => {
        const next = applyPatch(kind, current, patch) as Obj;
        warnings = checkUnknownFields(ctx.schemas, reg.info, next, validation);
        reg.checkShape(next);
        // a patch that does not name a resourceVersion must not turn into a precondition
        const patchedRv = (patch as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
        if (kind !== 'json' && !patchedRv) next.metadata.resourceVersion = current.metadata.resourceVersion;
        guardRbac(next);
        await restrictNode({ operation: 'update', subresource, name, obj: next }, async () => current);
        await admitUpdate(admission, { subresource, obj: next, old: current });
        return next;
      },
      { subresource, dryRun: dryRun(q), fieldManager: fieldManager(req, q) },
    );
    return sendJson(res, 200, updated, warned(warnings));
  }

  if (method === 'DELETE' && name && !subresource) {
    const { preconditions, ...options } = await deleteOptions(req, q);
    await restrictNode({ operation: 'delete', name }, stored(reg, namespace, name));
    if (deleteIsAdmitted(admission)) await admitDelete(admission, await reg.get(namespace, name));
    const { obj } = await reg.delete(namespace, name, { ...options, preconditions });
    return sendJson(res, 200, obj, warned([]));
  }

  if (method === 'DELETE' && !name) {
    const { preconditions: _ignored, ...options } = await deleteOptions(req, q);
    const list = await reg.list(listOptions(reg, namespace, q));
    const deleted: Obj[] = [];
    for (const item of list.items) {
      try {
        deleted.push((await reg.delete(item.metadata.namespace, item.metadata.name as string, options)).obj);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    return sendJson(res, 200, { kind: `${reg.info.kind}List`, apiVersion: apiVersionOf(reg.info), metadata: {}, items: deleted });
  }

  throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
}
