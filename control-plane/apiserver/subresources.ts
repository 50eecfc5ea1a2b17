import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../../apimachinery/index.ts';
import { bindPod } from './binding.ts';
import { evictPod } from './eviction.ts';
import { readBody, sendJson } from './http-util.ts';
import { applyPatch, patchKindOf } from './patch.ts';
import { proxyPodLog, proxyToKubelet } from './pod-log.ts';
import type { Registry } from './registry.ts';
import { dryRun, unsupportedPatch } from './request-options.ts';
import type { Obj } from './resource-info.ts';
import { registryKey, type RestContext } from './rest-context.ts';
import { requestToken } from './reviews.ts';
import { getScale, updateScale, type Scale } from './scale.ts';
import { fieldManager } from './apply/apply-request.ts';
import type { NodeWrite } from './node-restriction.ts';

/** One request on a subresource that is not the object itself. */
export interface SubresourceRequest {
  ctx: RestContext;
  reg: Registry;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  namespace: string | undefined;
  name: string;
  subresource: string;
  /** the path below nodes/NAME/proxy/ */
  proxyPath: string | undefined;
  /** NodeRestriction for a write by a node; `old` reads the stored object it judges, only when it must */
  restrictNode: (w: Omit<NodeWrite, 'user' | 'resource' | 'old'>, old?: () => Promise<Obj | undefined>) => Promise<void>;
  /** the stored object, or undefined when there is none */
  stored: (reg: Registry, namespace: string | undefined, name: string) => () => Promise<Obj | undefined>;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH';

interface SubresourceHandlers {
  methods: Partial<Record<Method, (r: SubresourceRequest) => Promise<void>>>;
  /** Kubernetes' words for a method the subresource does not take (the generic ones otherwise) */
  refuse?: (method: string, r: SubresourceRequest) => string | undefined;
}

const success = (res: ServerResponse) => sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });

async function updateScaleFrom(r: SubresourceRequest, method: 'PUT' | 'PATCH'): Promise<void> {
  const q = r.url.searchParams;
  const opts = { dryRun: dryRun(q), fieldManager: fieldManager(r.req, q) };
  if (method === 'PUT') {
    const body = (await readBody(r.req)) as Scale;
    return sendJson(r.res, 200, await updateScale(r.reg, r.namespace, r.name, () => body, opts));
  }
  const kind = patchKindOf(r.req.headers['content-type']);
  if (kind === null || kind === 'apply') throw unsupportedPatch({ apply: false, strategic: true });
  const patch = await readBody(r.req, { allowPatchTypes: true });
  return sendJson(r.res, 200, await updateScale(r.reg, r.namespace, r.name, (current) => applyPatch(kind, current, patch) as Scale, opts));
}

/**
 * The subresources that act rather than store (status, approval and finalize
 * are the object itself, updated through the generic path), by name: each
 * resource names the ones it has in the catalog.
 */
export const SUBRESOURCES: Record<string, SubresourceHandlers> = {
  proxy: {
    methods: {
      GET: (r) =>
        proxyToKubelet({
          nodes: r.reg,
          nodeName: r.name,
          path: `/${r.proxyPath ?? ''}${r.url.search}`,
          kubelet: r.ctx.kubelet,
          res: r.res,
          accept: r.req.headers.accept,
        }),
    },
    refuse: (method) => `${method} is not supported on nodes/proxy; only GET reaches the kubelet`,
  },
  log: {
    methods: {
      GET: (r) =>
        proxyPodLog({
          pods: r.reg,
          nodes: r.ctx.registries.get(registryKey('', 'nodes')) as Registry,
          namespace: r.namespace as string,
          name: r.name,
          query: r.url.searchParams,
          kubelet: r.ctx.kubelet,
          res: r.res,
        }),
    },
  },
  binding: {
    methods: {
      POST: async (r) => {
        const body = (await readBody(r.req)) as { target?: { name?: string }; metadata?: { name?: string } };
        await bindPod(r.reg, r.namespace as string, r.name, body);
        return success(r.res);
      },
    },
    refuse: (method, r) => (method === 'GET' ? `GET is not supported on pods/${r.subresource}` : undefined),
  },
  eviction: {
    methods: {
      POST: async (r) => {
        const body = (await readBody(r.req)) as Parameters<typeof evictPod>[4];
        await r.restrictNode({ operation: 'create', subresource: r.subresource, name: r.name }, r.stored(r.reg, r.namespace, r.name));
        const budgets = r.ctx.registries.get(registryKey('policy', 'poddisruptionbudgets')) as Registry;
        await evictPod(r.reg, budgets, r.namespace as string, r.name, body, dryRun(r.url.searchParams));
        return success(r.res);
      },
    },
    refuse: (method, r) => (method === 'GET' ? `GET is not supported on pods/${r.subresource}` : undefined),
  },
  token: {
    methods: {
      POST: async (r) => {
        const body = (await readBody(r.req)) as Parameters<typeof requestToken>[5];
        const pods = r.ctx.registries.get(registryKey('', 'pods')) as Registry;
        const boundPod = (body as { spec?: { boundObjectRef?: { name?: string } } }).spec?.boundObjectRef?.name;
        await r.restrictNode(
          { operation: 'create', subresource: r.subresource, name: r.name, obj: body as unknown as Obj },
          boundPod ? r.stored(pods, r.namespace, boundPod) : undefined,
        );
        const auth = r.ctx.auth;
        return sendJson(r.res, 201, await requestToken(auth.tokens, r.reg, pods, r.namespace as string, r.name, body, auth.apiAudiences));
      },
    },
  },
  scale: {
    methods: {
      GET: async (r) => sendJson(r.res, 200, await getScale(r.reg, r.namespace, r.name)),
      PUT: (r) => updateScaleFrom(r, 'PUT'),
      PATCH: (r) => updateScaleFrom(r, 'PATCH'),
    },
  },
};

/** Serves a request on one of SUBRESOURCES, or refuses its method. */
export function serveSubresource(handlers: SubresourceHandlers, method: string, r: SubresourceRequest): Promise<void> {
  const handler = handlers.methods[method as Method];
  if (handler) return handler(r);
  throw errors.methodNotAllowed(handlers.refuse?.(method, r) ?? 'the server does not allow this method on the requested resource');
}
