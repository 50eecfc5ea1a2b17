import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ApiError,
  errors,
  fieldErrors,
  parseFieldSelector,
  qualifiedResource,
  parseLabelSelector,
  FieldSelectorParseError,
  SelectorParseError,
  type FieldSelector,
} from '../../apimachinery/index.ts';
import { applyPatch, patchKindOf } from './patch.ts';
import { proxyPodLog, proxyToKubelet } from './pod-log.ts';
import type { ListOptions, Registry } from './registry.ts';
import { checkWatchOptions, listReadOf } from './list-read.ts';
import type { RequestInfo } from '../api/index.ts';
import { apiVersionOf, type Obj, type PropagationPolicy } from './resource-info.ts';
import { readBody, sendJson, sendJsonList, queryBool } from './http-util.ts';
import { toTable, wantsTable } from './table.ts';
import { serveWatch } from './watch-stream.ts';
import { bindPod } from './binding.ts';
import { evictPod } from './eviction.ts';
import { getScale, updateScale, type Scale } from './scale.ts';
import { REVIEWS, requestToken } from './reviews.ts';
import { checkEscalation, type UserInfo } from '../auth/index.ts';
import { admitNodeRestriction, restrictsWrite, type NodeWrite } from './node-restriction.ts';
import { admitCreate, admitUpdate, updateIsAdmitted } from './admission.ts';
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

function listOptions(reg: Registry, namespace: string | undefined, q: URLSearchParams): ListOptions {
  let fields: FieldSelector;
  try {
    fields = parseFieldSelector(q.get('fieldSelector'));
  } catch (err) {
    if (err instanceof FieldSelectorParseError) throw errors.badRequest(err.message);
    throw err;
  }
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(reg.info.strategy?.selectableFields ?? [])]);
  for (const f of fields) {
    if (!allowed.has(f.field)) throw errors.badRequest(`field label not supported: ${f.field}`);
  }
  const limit = q.get('limit') ? Number(q.get('limit')) : undefined;
  try {
    return {
      namespace,
      labels: parseLabelSelector(q.get('labelSelector')),
      fields,
      limit,
      continue: q.get('continue') ?? undefined,
      // a watch reads resourceVersion its own way
      read: queryBool(q.get('watch')) ? undefined : listReadOf(q, limit),
    };
  } catch (err) {
    if (err instanceof SelectorParseError) throw errors.badRequest(`unable to parse requirement: ${err.message}`);
    throw err;
  }
}

function dryRun(q: URLSearchParams): boolean {
  const v = q.get('dryRun');
  if (v && v !== 'All') throw errors.badRequest(`Invalid dry run value: ${v}. Valid values: All`);
  return v === 'All';
}

interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  orphanDependents?: boolean;
}

const POLICIES: readonly PropagationPolicy[] = ['Orphan', 'Background', 'Foreground'];

/** The propagation policy of a delete, from the query or DeleteOptions (orphanDependents is its older spelling). */
function propagationPolicy(q: URLSearchParams, body: DeleteOptions): PropagationPolicy | undefined {
  const policy = q.get('propagationPolicy') ?? body.propagationPolicy;
  const orphan = q.get('orphanDependents') ?? body.orphanDependents;
  if (policy !== undefined && orphan !== undefined && orphan !== null) {
    throw errors.invalid('DeleteOptions', '', '', [
      fieldErrors.invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set'),
    ]);
  }
  if (policy !== undefined && policy !== null) {
    if (!POLICIES.includes(policy as PropagationPolicy))
      throw errors.invalid('DeleteOptions', '', '', [fieldErrors.notSupported('propagationPolicy', policy, [...POLICIES])]);
    return policy as PropagationPolicy;
  }
  if (orphan === undefined || orphan === null) return undefined;
  return orphan === true || orphan === 'true' ? 'Orphan' : 'Background';
}

/** A delete's options, from its DeleteOptions body and the query (the query wins). */
async function deleteOptions(req: IncomingMessage, q: URLSearchParams) {
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  const body = ((hasBody ? await readBody(req, { allowEmpty: true }) : undefined) ?? {}) as DeleteOptions;
  const graceQ = q.get('gracePeriodSeconds');
  return {
    gracePeriodSeconds: graceQ !== null ? Number(graceQ) : body.gracePeriodSeconds,
    preconditions: body.preconditions,
    propagationPolicy: propagationPolicy(q, body),
    dryRun: dryRun(q),
  };
}

/** A patch of a type the URL does not take (scale takes no apply). */
function unsupportedPatch(opts: { apply: boolean }): ApiError {
  const types = [
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
    ...(opts.apply ? ['application/apply-patch+yaml'] : []),
  ];
  return new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${types.join(', ')}`);
}

/** Serves one request on a resource URL. */
export async function handleResource(ctx: RestContext, user: UserInfo, info: RequestInfo, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const review = REVIEWS[`${info.group}/${info.resource}`];
  if (review && info.version === 'v1' && !info.name) {
    if (req.method !== 'POST') throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    const body = (await readBody(req)) as Parameters<typeof review>[0];
    return sendJson(res, 201, await review(body, { ...ctx.auth, user, namespace: info.namespace }));
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
  if (subresource === 'proxy' && req.method !== 'GET')
    throw errors.methodNotAllowed(`${req.method} is not supported on nodes/proxy; only GET reaches the kubelet`);
  const accept = req.headers.accept;
  const table = wantsTable(accept);
  const render = (obj: Obj) =>
    table ? toTable(reg.info, [obj], { accept, includeObject: q.get('includeObject') ?? undefined, resourceVersion: obj.metadata.resourceVersion }) : obj;
  const method = req.method ?? 'GET';
  const admission = { ctx, reg, user, namespace };
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
  const guardRbac = (obj: Obj) => {
    if (reg.info.group === 'rbac.authorization.k8s.io' && obj?.metadata)
      checkEscalation(ctx.auth.authorizer, user, reg.info.resource, { ...obj, metadata: { ...obj.metadata, namespace } });
  };

  if (method === 'GET' && !name) {
    const opts = listOptions(reg, namespace, q);
    if (queryBool(q.get('watch'))) {
      const timeoutSeconds = q.get('timeoutSeconds') ? Number(q.get('timeoutSeconds')) : 1800;
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
    if (reg.info.resource === 'nodes' && subresource === 'proxy') {
      return proxyToKubelet({ nodes: reg, nodeName: name, path: `/${info.proxyPath ?? ''}${url.search}`, kubelet: ctx.kubelet, res });
    }
    if (subresource === 'log') {
      return proxyPodLog({
        pods: reg,
        nodes: ctx.registries.get(registryKey('', 'nodes')) as Registry,
        namespace: namespace as string,
        name,
        query: q,
        kubelet: ctx.kubelet,
        res,
      });
    }
    if (subresource === 'binding' || subresource === 'eviction') throw errors.methodNotAllowed(`GET is not supported on pods/${subresource}`);
    if (subresource === 'scale') return sendJson(res, 200, await getScale(reg, namespace, name));
    return sendJson(res, 200, render(await reg.get(namespace, name)));
  }

  if (method === 'POST' && !name) {
    if (reg.info.namespaced && !namespace) throw new ApiError('NotFound', 'the server could not find the requested resource');
    const body = (await readBody(req)) as Obj;
    const warnings = checkUnknownFields(ctx.schemas, reg.info, body, fieldValidation(q));
    await admitCreate(admission, body);
    guardRbac(body);
    const created = await reg.create(namespace, body, { dryRun: dryRun(q), fieldManager: fieldManager(req, q) });
    return sendJson(res, 201, created, warningHeaders(warnings));
  }

  if (method === 'POST' && name && subresource === 'binding') {
    const body = (await readBody(req)) as { target?: { name?: string }; metadata?: { name?: string } };
    await bindPod(reg, namespace as string, name, body);
    return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }

  if (method === 'POST' && name && subresource === 'token') {
    const body = (await readBody(req)) as Parameters<typeof requestToken>[5];
    const pods = ctx.registries.get(registryKey('', 'pods')) as Registry;
    const boundPod = (body as { spec?: { boundObjectRef?: { name?: string } } }).spec?.boundObjectRef?.name;
    await restrictNode({ operation: 'create', subresource, name, obj: body as unknown as Obj }, boundPod ? stored(pods, namespace, boundPod) : undefined);
    return sendJson(res, 201, await requestToken(ctx.auth.tokens, reg, pods, namespace as string, name, body, ctx.auth.apiAudiences));
  }

  if (method === 'POST' && name && subresource === 'eviction') {
    const body = (await readBody(req)) as Parameters<typeof evictPod>[4];
    await restrictNode({ operation: 'create', subresource, name }, stored(reg, namespace, name));
    await evictPod(reg, ctx.registries.get(registryKey('policy', 'poddisruptionbudgets')) as Registry, namespace as string, name, body, dryRun(q));
    return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }

  if ((method === 'PUT' || method === 'PATCH') && name && subresource === 'scale') {
    if (method === 'PUT') {
      const body = (await readBody(req)) as Scale;
      return sendJson(res, 200, await updateScale(reg, namespace, name, () => body, { dryRun: dryRun(q), fieldManager: fieldManager(req, q) }));
    }
    const kind = patchKindOf(req.headers['content-type']);
    if (kind === null || kind === 'apply') throw unsupportedPatch({ apply: false });
    const patch = await readBody(req, { allowPatchTypes: true });
    return sendJson(
      res,
      200,
      await updateScale(reg, namespace, name, (current) => applyPatch(kind, current, patch) as Scale, {
        dryRun: dryRun(q),
        fieldManager: fieldManager(req, q),
      }),
    );
  }

  if (method === 'PUT' && name && (!subresource || subresource === 'status' || subresource === 'approval' || subresource === 'finalize')) {
    const body = (await readBody(req)) as Obj;
    const warnings = checkUnknownFields(ctx.schemas, reg.info, body, fieldValidation(q));
    guardRbac({ ...body, metadata: { ...body.metadata, name, namespace } });
    await restrictNode({ operation: 'update', subresource, name, obj: body }, stored(reg, namespace, name));
    if (updateIsAdmitted(reg)) await admitUpdate(admission, { subresource, obj: body, old: await reg.get(namespace, name) });
    return sendJson(
      res,
      200,
      await reg.update(namespace, name, body, { subresource, dryRun: dryRun(q), fieldManager: fieldManager(req, q) }),
      warningHeaders(warnings),
    );
  }

  if (method === 'PATCH' && name && (!subresource || subresource === 'status' || subresource === 'approval')) {
    const kind = patchKindOf(req.headers['content-type']);
    if (kind === null) throw unsupportedPatch({ apply: true });
    const patch = await readBody(req, { allowPatchTypes: true });
    const validation = fieldValidation(q);
    if (kind === 'apply') {
      await restrictNode({ operation: 'update', subresource, name, obj: patch as Obj }, stored(reg, namespace, name));
      const opts = { fieldManager: q.get('fieldManager'), force: queryBool(q.get('force')), dryRun: dryRun(q), validation };
      const deps = { schemas: ctx.schemas, admitCreate: (obj: Obj) => admitCreate(admission, obj), guard: guardRbac };
      const { obj, created, warnings } = await serverSideApply(reg, { namespace, name, subresource: subresource ?? '' }, patch, opts, deps);
      return sendJson(res, created ? 201 : 200, obj, warningHeaders(warnings));
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
    return sendJson(res, 200, updated, warningHeaders(warnings));
  }

  if (method === 'DELETE' && name && !subresource) {
    const { preconditions, ...options } = await deleteOptions(req, q);
    await restrictNode({ operation: 'delete', name }, stored(reg, namespace, name));
    const { obj } = await reg.delete(namespace, name, { ...options, preconditions });
    return sendJson(res, 200, obj);
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
