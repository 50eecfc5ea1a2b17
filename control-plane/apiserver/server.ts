import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { randomUUID } from 'node:crypto';
import { forbidden, requestAttributes } from '../auth/index.ts';
import { Authenticator } from '../auth/index.ts';
import { impersonate } from '../auth/index.ts';
import { ClusterAuthorizer } from '../auth/index.ts';
import type { ServiceAccountTokens } from '../auth/index.ts';
import type { UserInfo } from '../auth/index.ts';
import { BootstrapTokenAuthenticator, ServiceAccountAuthenticator, type TokenAuthenticator } from '../auth/index.ts';
import {
  ApiError,
  errors,
  fromObjectSelector,
  isWebSocketRequest,
  parseApiVersion,
  processRegistry,
  refuseUpgrade,
  type KeyPair,
  type Logger,
  type ObjectLabelSelector,
} from '../../apimachinery/index.ts';
import type { Storage } from '../storage/index.ts';
import { resourceCatalog } from './catalog.ts';
import { AGGREGATED_DISCOVERY, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, wantsAggregatedDiscovery } from './discovery.ts';
import { acceptsJson, sendError, sendJson } from './http-util.ts';
import { streamPodLogOverWebSocket, type KubeletClientConfig } from './pod-log.ts';
import { STREAM_SUBRESOURCES, proxyPodStream } from './pod-stream.ts';
import { Registry } from './registry.ts';
import { listAndWatch } from './list-watch.ts';
import { parseResourcePath } from '../api/index.ts';
import { handleResource, registryKey, servedVersionKey, type RestContext } from './rest-handler.ts';
import { NodePortRange, ServiceIpRange } from './resources/services.ts';
import type { Obj, ResourceInfo } from './resource-info.ts';
import { bootstrap } from './bootstrap.ts';
import { openApiDocument, openApiIndex, openApiV2Document } from './openapi.ts';
import { loadModelSchemas } from './openapi/model-schemas.ts';
import { encodeOpenApiV2, OPENAPI_V2_PROTOBUF, wantsOpenApiV2Protobuf } from './openapi/v2-protobuf.ts';
import { CustomResourceServer } from './custom-resources/serving.ts';
import { publishAuthenticationConfig, publishClusterInfo } from './bootstrap.ts';
import { KubernetesEndpoints } from './kubernetes-endpoints.ts';
import { Aggregator, registerLocalApiServices } from './aggregator/index.ts';
import { isHealthPath, serveHealth, type HealthCheck } from './health.ts';
import { DEFAULT_POD_SECURITY, type PodSecurityConfig } from './pod-security/index.ts';
import { ApiServerMetrics } from './metrics.ts';
import type { WatchTally } from './watch-stream.ts';
import { WebhookDispatcher } from './admission-webhooks/index.ts';
import { AdmissionPolicies, MutatingAdmissionPolicies, type ParamReader } from './admission-policies/index.ts';
import { clusterIpResolver } from './webhook-client.ts';
import type { Auditor, RequestAudit } from './audit/index.ts';
import type { Registry as MetricsRegistry } from 'prom-client';
import { answerUnservable, MAX_HEADER_BYTES, refuseLongUri } from './unservable.ts';

export interface ApiServerOptions {
  storage: Storage;
  /** serving certificate and key, and the CA client certificates must chain to */
  tls: { cert: string; key: string; clientCA: string };
  kubeletClient: KubeletClientConfig;
  bindAddress: string;
  port: number;
  /** address clients are told to use (discovery) */
  advertiseAddress: string;
  serviceCidr: string;
  /** signs and verifies service account tokens */
  serviceAccountTokens: ServiceAccountTokens;
  /** audiences a token must carry to be accepted here (defaults to the issuer) */
  apiAudiences?: string[];
  /** requests without credentials are anonymous on the auth module's ANONYMOUS_PATHS (true, the default), or 401 everywhere */
  anonymousAuth?: boolean;
  /** extra token authenticators (a static token file) tried before the built-in ones */
  tokenAuthenticators?: TokenAuthenticator[];
  /** how often a watch that asked for bookmarks gets one (60 s) */
  watchBookmarkIntervalMs?: number;
  /** PodSecurity's cluster-wide defaults and exemptions (privileged everywhere unless set, as in Kubernetes) */
  podSecurity?: PodSecurityConfig;
  /** writes the audit events of the requests its policy logs (--audit-policy-file, --audit-log-path) */
  auditor?: Auditor;
  /** the process's metrics registry, which /metrics serves (one of the server's own when not given) */
  metrics?: MetricsRegistry;
  /** the aggregation layer's front-proxy CA and the client certificate under it that extension API servers are sent */
  frontProxy?: { ca: string; client: KeyPair };
  log: Logger;
}

export const SERVER_VERSION = {
  major: '1',
  minor: '34',
  gitVersion: 'v1.34.0-skiff',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '2026-11-21T00:00:00Z',
  goVersion: 'n/a',
  compiler: 'skiff',
  platform: 'linux/amd64',
};

/**
 * The API server: HTTPS; every request authenticated (client certificate,
 * bearer token, else anonymous) and authorized by RBAC; discovery, and the
 * generic REST handler over one Registry per stored resource.
 */
export class ApiServer {
  readonly registries = new Map<string, Registry>();
  #opts: ApiServerOptions;
  #metrics: ApiServerMetrics;
  /** the admission webhooks, kept in step with their configurations */
  readonly #webhooks: WebhookDispatcher;
  readonly #stopWebhookFeeds: (() => void)[] = [];
  readonly #aggregator: Aggregator;
  readonly #policies: AdmissionPolicies;
  readonly #mutatingPolicies: MutatingAdmissionPolicies;
  #server: Server | undefined;
  #closing = new AbortController();
  #serviceIps: ServiceIpRange;
  #nodePorts = new NodePortRange();
  /** what discovery lists: the built-in catalog, and the custom resources served now */
  #resources: ResourceInfo[];
  #customResources: CustomResourceServer | undefined;
  #kubernetesEndpoints: KubernetesEndpoints | undefined;
  /** built on first request, then served as is */
  #openApiIndex: object | undefined;
  #openApiV2: object | undefined;
  #openApiV2Protobuf: Buffer | undefined;
  #authenticator: Authenticator;
  readonly authorizer: ClusterAuthorizer;
  #apiAudiences: string[];
  #watches: WatchTally = { open: 0, sent: (kind) => this.#metrics.watchEventSent(kind) };
  /** what /healthz, /livez and /readyz check: the server answers, and storage does */
  #healthChecks: HealthCheck[] = [
    { name: 'ping', check: async () => {} },
    { name: 'etcd', check: async () => void (await this.#opts.storage.currentRevision()) },
  ];

  constructor(opts: ApiServerOptions) {
    this.#opts = opts;
    this.#webhooks = new WebhookDispatcher({
      resolve: clusterIpResolver(() => this.registries.get(registryKey('', 'services'))),
      log: opts.log.child({ component: 'admission-webhooks' }),
      observe: (call) => this.#metrics.webhookCalled(call),
    });
    this.#aggregator = new Aggregator({
      frontProxy: opts.frontProxy?.client,
      apiServices: () => this.registry('apiregistration.k8s.io', 'apiservices'),
      services: () => this.registry('', 'services'),
      endpointSlices: () => this.registry('discovery.k8s.io', 'endpointslices'),
      log: opts.log.child({ component: 'aggregator' }),
    });
    const params: ParamReader = (kind, ref, namespace) => this.#paramsOf(kind, ref, namespace);
    this.#policies = new AdmissionPolicies(params, opts.log.child({ component: 'admission-policies' }));
    this.#mutatingPolicies = new MutatingAdmissionPolicies(params, opts.log.child({ component: 'mutating-admission-policies' }));
    this.#metrics = new ApiServerMetrics({
      registry: opts.metrics ?? processRegistry(),
      served: (group, resource) => this.registries.has(registryKey(group, resource)),
      storedObjects: () => this.#storedObjects(),
    });
    this.#serviceIps = new ServiceIpRange(opts.serviceCidr);
    this.#resources = resourceCatalog(this.#serviceIps, this.#nodePorts);
    for (const info of this.#resources) {
      if (info.virtual) continue;
      const key = info.alternateVersion ? servedVersionKey(info.group, info.version, info.resource) : registryKey(info.group, info.resource);
      this.registries.set(key, new Registry(info, opts.storage));
    }
    this.#apiAudiences = opts.apiAudiences ?? [opts.serviceAccountTokens.issuer];
    this.#authenticator = new Authenticator({
      tokens: [
        ...(opts.tokenAuthenticators ?? []),
        new ServiceAccountAuthenticator(opts.serviceAccountTokens, {
          serviceAccounts: this.registry('', 'serviceaccounts'),
          pods: this.registry('', 'pods'),
          secrets: this.registry('', 'secrets'),
        }),
        new BootstrapTokenAuthenticator(this.registry('', 'secrets')),
      ],
      apiAudiences: this.#apiAudiences,
      anonymous: opts.anonymousAuth ?? true,
    });
    this.authorizer = new ClusterAuthorizer((group, resource) => (handlers) => listAndWatch(this.registry(group, resource), {}, handlers));
  }

  registry(group: string, resource: string): Registry {
    const r = this.registries.get(registryKey(group, resource));
    if (!r) throw new Error(`no registry for ${group}/${resource}`);
    return r;
  }

  /** Objects held per resource (pods, deployments.apps), from the watch caches; each stored resource once. */
  #storedObjects(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of new Set(this.registries.values())) {
      const n = r.cachedCount;
      const { group, resource } = r.info.storage ?? r.info;
      if (n !== undefined) counts.set(group ? `${resource}.${group}` : resource, n);
    }
    return counts;
  }

  /** watches being served right now */
  get openWatches(): number {
    return this.#watches.open;
  }

  get port(): number {
    const addr = this.#server?.address();
    return typeof addr === 'object' && addr ? addr.port : this.#opts.port;
  }

  async start(): Promise<void> {
    await Promise.all([...this.registries.values()].map((r) => r.startCache()));
    const kinds = this.#resources.filter((r) => !r.virtual).map(({ group, version, kind }) => ({ group, version, kind }));
    const [schemas] = await Promise.all([loadModelSchemas(kinds), bootstrap(this, this.#serviceIps, this.#nodePorts)]);
    await this.authorizer.start();
    for (const kind of ['mutating', 'validating'] as const) {
      this.#stopWebhookFeeds.push(
        await listAndWatch(this.registry('admissionregistration.k8s.io', `${kind}webhookconfigurations`), {}, this.#webhooks.feed(kind)),
      );
    }
    for (const [resource, policies, kind] of [
      ['validatingadmissionpolicies', this.#policies, 'policies'],
      ['validatingadmissionpolicybindings', this.#policies, 'bindings'],
      ['mutatingadmissionpolicies', this.#mutatingPolicies, 'policies'],
      ['mutatingadmissionpolicybindings', this.#mutatingPolicies, 'bindings'],
    ] as const) {
      this.#stopWebhookFeeds.push(await listAndWatch(this.registry('admissionregistration.k8s.io', resource), {}, policies.feed(kind)));
    }
    const apiServices = this.registry('apiregistration.k8s.io', 'apiservices');
    await registerLocalApiServices(apiServices, this.#resources);
    this.#stopWebhookFeeds.push(await listAndWatch(apiServices, {}, this.#aggregator.feed()));
    for (const [group, resource] of [
      ['', 'services'],
      ['discovery.k8s.io', 'endpointslices'],
    ] as const) {
      this.#stopWebhookFeeds.push(await listAndWatch(this.registry(group, resource), {}, this.#aggregator.backendFeed(resource)));
    }
    this.#aggregator.start();
    const ctx: RestContext = {
      registries: this.registries,
      kubelet: this.#opts.kubeletClient,
      closing: this.#closing.signal,
      log: this.#opts.log,
      watch: { bookmarkIntervalMs: this.#opts.watchBookmarkIntervalMs ?? 60_000, tally: this.#watches },
      admissionStep: (step) => this.#metrics.admissionStep(step),
      admissionPlugin: (plugin) => this.#metrics.admissionPlugin(plugin),
      auth: { authenticator: this.#authenticator, authorizer: this.authorizer, apiAudiences: this.#apiAudiences, tokens: this.#opts.serviceAccountTokens },
      schemas,
      podSecurity: this.#opts.podSecurity ?? DEFAULT_POD_SECURITY,
      webhooks: this.#webhooks,
      policies: this.#policies,
      mutatingPolicies: this.#mutatingPolicies,
    };
    this.#customResources = new CustomResourceServer(
      {
        storage: this.#opts.storage,
        registries: this.registries,
        resources: this.#resources,
        schemas,
        registryKey,
        servedVersionKey,
        changed: () => {
          this.#openApiIndex = undefined;
          this.#openApiV2 = undefined;
          this.#openApiV2Protobuf = undefined;
        },
        log: this.#opts.log.child({ component: 'custom-resources' }),
      },
      this.registry('apiextensions.k8s.io', 'customresourcedefinitions'),
    );
    await this.#customResources.start();
    this.#server = createServer(
      {
        cert: this.#opts.tls.cert,
        key: this.#opts.tls.key,
        ca: this.#opts.tls.clientCA,
        requestCert: true,
        rejectUnauthorized: false,
        maxHeaderSize: MAX_HEADER_BYTES,
      },
      (req, res) => {
        if (refuseLongUri(req, res)) return;
        // a write that races the end of a long-running response must not take the server down
        res.on('error', (err) => this.#opts.log.debug({ err: err.message, path: req.url }, 'response error'));
        void this.#handle(ctx, req, res);
      },
    );
    // a connection keeps the client certificate it started with (the authenticator reads it once per connection)
    this.#server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#upgrade(ctx, req, socket, head));
    answerUnservable(this.#server);
    this.#server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.#server?.once('error', reject);
      this.#server?.listen(this.#opts.port, this.#opts.bindAddress, () => resolve());
    });
    await publishClusterInfo(this, { server: `https://${this.#opts.advertiseAddress}:${this.port}`, ca: this.#opts.tls.clientCA });
    this.#kubernetesEndpoints = new KubernetesEndpoints({
      leases: this.registry('coordination.k8s.io', 'leases'),
      endpoints: this.registry('', 'endpoints'),
      endpointSlices: this.registry('discovery.k8s.io', 'endpointslices'),
      address: this.#opts.advertiseAddress,
      port: this.port,
      log: this.#opts.log.child({ component: 'kubernetes-endpoints' }),
    });
    this.#kubernetesEndpoints.start();
    if (this.#opts.frontProxy) await publishAuthenticationConfig(this, { clientCa: this.#opts.tls.clientCA, requestHeaderCa: this.#opts.frontProxy.ca });
    this.#opts.log.info({ address: this.#opts.bindAddress, port: this.port }, 'API server listening');
  }

  /** An admission policy's params: the objects of its paramKind a binding names (by name, or by selector), in its namespace or the request's. */
  async #paramsOf(
    paramKind: { apiVersion: string; kind: string },
    ref: { name?: string; namespace?: string; selector?: ObjectLabelSelector },
    namespace: string,
  ): Promise<Obj[]> {
    const { group, version } = parseApiVersion(paramKind.apiVersion);
    const reg = [...this.registries.values()].find((r) => r.info.group === group && r.info.version === version && r.info.kind === paramKind.kind);
    if (!reg) throw new Error(`failed to find resource referenced by paramKind: '${paramKind.apiVersion}, Kind=${paramKind.kind}'`);
    const ns = reg.info.namespaced ? (ref.namespace ?? namespace) : undefined;
    if (ref.name)
      return reg.get(ns, ref.name).then(
        (o) => [o],
        () => [],
      );
    return (await reg.list({ namespace: ns, labels: fromObjectSelector(ref.selector ?? {}) })).items;
  }

  async close(): Promise<void> {
    await this.#kubernetesEndpoints?.stop();
    this.#closing.abort();
    this.authorizer.stop();
    for (const stop of this.#stopWebhookFeeds.splice(0)) stop();
    this.#aggregator.stop();
    this.#customResources?.stop();
    for (const r of this.registries.values()) r.stopCache();
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(ctx: RestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    // every request has an audit ID, in its Audit-Id header and its log lines, audited or not
    const auditID = randomUUID();
    res.setHeader('audit-id', auditID);
    const url = new URL(req.url ?? '/', 'https://skiff');
    const log = this.#opts.log.child({ reqId: auditID.slice(0, 8) });
    const counted = this.#metrics.begin(req, url);
    let userName: string | undefined;
    let audit: RequestAudit | undefined;
    let authorization: { allowed: boolean; reason: string } | undefined;
    let failure: ApiError | undefined;
    try {
      const authenticated = await this.#authenticator.authenticate(req);
      const user = impersonate(req, authenticated, this.authorizer);
      userName = user.name;
      const attributes = requestAttributes(req.method ?? 'GET', url.pathname.replace(/\/+$/, '') || '/', url.searchParams);
      audit = this.#opts.auditor?.begin({ req, auditID, user: authenticated, impersonated: user === authenticated ? undefined : user, attributes });
      authorization = this.authorizer.authorize(user, attributes);
      if (!authorization.allowed) throw forbidden(user.name, attributes, authorization.reason);
      if (!acceptsJson(req.headers.accept) && !(url.pathname === '/openapi/v2' && wantsOpenApiV2Protobuf(req.headers.accept))) {
        throw new ApiError('NotAcceptable', `only the following media types are accepted: application/json, application/yaml`);
      }
      const route = () => this.#route(ctx, user, req, res, url);
      await (audit ? audit.run(route) : route());
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError('InternalError', `Internal error occurred: ${(err as Error).message}`);
      if (apiErr.code >= 500) log.error({ err, method: req.method, path: url.pathname }, 'request failed');
      failure = apiErr;
      sendError(res, apiErr);
    } finally {
      const status = failure ? { status: 'Failure', message: failure.message, reason: failure.reason } : undefined;
      audit?.complete({ code: res.statusCode, ...(status ? { status } : {}) }, authorization);
      counted(res.statusCode);
      log.debug(
        { method: req.method, path: url.pathname, query: url.search, user: userName, code: res.statusCode, ms: Math.round(performance.now() - started) },
        'request',
      );
    }
  }

  /** Upgraded connections: pods/exec, pods/attach and pods/portforward, authenticated and authorized as any request. */
  async #upgrade(ctx: RestContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // the HTTP server let go of the socket: a reset while we authorize must not take the server down
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://skiff');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    try {
      const user = impersonate(req, await this.#authenticator.authenticate(req), this.authorizer);
      const attributes = requestAttributes(req.method ?? 'GET', path, url.searchParams);
      const decision = this.authorizer.authorize(user, attributes);
      if (!decision.allowed) throw forbidden(user.name, attributes, decision.reason);
      const info = parseResourcePath(path);
      if (info?.group === '' && info.resource === 'pods' && info.name && info.namespace && info.subresource === 'log' && isWebSocketRequest(req)) {
        const pods = { pods: this.registry('', 'pods'), nodes: this.registry('', 'nodes'), kubelet: ctx.kubelet };
        return await streamPodLogOverWebSocket({ ...pods, namespace: info.namespace, name: info.name, query: url.searchParams, req, socket, head });
      }
      if (info?.group !== '' || info.resource !== 'pods' || !info.name || !info.namespace || !STREAM_SUBRESOURCES[info.subresource ?? '']) {
        throw errors.badRequest(`${req.method} ${path} cannot be upgraded: only pods/exec, pods/attach and pods/portforward stream`);
      }
      await proxyPodStream({
        pods: this.registry('', 'pods'),
        nodes: this.registry('', 'nodes'),
        namespace: info.namespace,
        name: info.name,
        subresource: info.subresource as string,
        query: url.searchParams,
        kubelet: ctx.kubelet,
        req,
        socket,
        head,
      });
      this.#opts.log.debug({ method: req.method, path, user: user.name }, 'stream opened');
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError('InternalError', `Internal error occurred: ${(err as Error).message}`);
      refuseUpgrade(socket, apiErr.code, JSON.stringify(apiErr.toStatus()), 'application/json');
    }
  }

  async #route(ctx: RestContext, user: UserInfo, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const resources = this.#resources;
    if (isHealthPath(path)) return serveHealth(path, url.searchParams, this.#healthChecks, res);
    if (req.method !== 'GET' && !path.startsWith('/api'))
      throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    if (path === '/version') return sendJson(res, 200, SERVER_VERSION);
    if (path === '/metrics') return this.#metrics.serve(req, res);
    // service account issuer discovery, so others can verify the tokens this server issues
    if (path === '/.well-known/openid-configuration') return sendJson(res, 200, this.#opts.serviceAccountTokens.discovery());
    if (path === '/openid/v1/jwks') return sendJson(res, 200, await this.#opts.serviceAccountTokens.jwks(), { 'content-type': 'application/jwk-set+json' });
    if (path === '/openapi/v2') {
      this.#openApiV2 ??= openApiV2Document(resources, ctx.schemas);
      if (!wantsOpenApiV2Protobuf(req.headers.accept)) return sendJson(res, 200, this.#openApiV2);
      const body = (this.#openApiV2Protobuf ??= encodeOpenApiV2(this.#openApiV2 as Record<string, unknown>));
      res.writeHead(200, { 'content-type': OPENAPI_V2_PROTOBUF, 'content-length': body.length, 'cache-control': 'no-cache, private' });
      return void res.end(body);
    }
    if (path === '/openapi/v3') {
      const index = (this.#openApiIndex ??= openApiIndex(resources, ctx.schemas)) as { paths: Record<string, unknown> };
      return sendJson(res, 200, { paths: { ...index.paths, ...this.#aggregator.openApiPaths() } });
    }
    // a group version an extension API server took is its to answer, discovery and OpenAPI document too
    const extension = /^\/(?:openapi\/v3\/)?apis\/([^/]+)\/([^/]+)/.exec(path);
    const remote = extension ? this.#aggregator.remoteFor(extension[1] as string, extension[2] as string) : undefined;
    if (remote) return this.#aggregator.proxy(remote, { req, res, user, pathAndQuery: `${url.pathname}${url.search}` });
    if (path.startsWith('/openapi/v3/')) {
      const doc = openApiDocument(resources, path.slice('/openapi/v3/'.length), ctx.schemas);
      if (doc) return sendJson(res, 200, doc);
    }
    const parts = path.split('/').filter(Boolean);
    // what discovery lists, extension servers' resources included (worked out only for discovery)
    const discovered = () => this.#aggregator.served(resources);
    if ((path === '/api' || path === '/apis') && wantsAggregatedDiscovery(req.headers.accept)) {
      return sendJson(res, 200, aggregatedDiscovery(discovered(), path === '/api'), { 'content-type': AGGREGATED_DISCOVERY, vary: 'Accept' });
    }
    if (path === '/api') return sendJson(res, 200, apiVersions(`${this.#opts.advertiseAddress}:${this.port}`));
    if (path === '/apis') return sendJson(res, 200, apiGroupList(discovered()));
    if (parts[0] === 'apis' && parts.length === 2) {
      const g = apiGroup(discovered(), parts[1] as string);
      if (g) return sendJson(res, 200, g);
    }
    if ((parts[0] === 'api' && parts.length === 2) || (parts[0] === 'apis' && parts.length === 3)) {
      const list = parts[0] === 'api' ? apiResourceList(resources, '', parts[1] as string) : apiResourceList(resources, parts[1] as string, parts[2] as string);
      if (list) return sendJson(res, 200, list);
    }
    const info = parseResourcePath(path);
    if (info) return handleResource(ctx, user, info, req, res, url);
    throw new ApiError('NotFound', 'the server could not find the requested resource');
  }
}
