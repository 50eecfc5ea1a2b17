import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ApiError, rfc3339, type Logger } from '../../../apimachinery/index.ts';
import type { UserInfo } from '../../auth/index.ts';
import { mapFeed, type ListWatchHandlers } from '../list-watch.ts';
import type { Registry } from '../registry.ts';
import type { Obj, ResourceInfo } from '../resource-info.ts';
import { apiServiceName, asApiService, type ApiService } from '../resources/api-services.ts';
import { extensionGet, type ExtensionClient } from './extension-client.ts';
import { proxyToExtension } from './proxy.ts';

// The aggregation layer (kube-aggregator in kube-apiserver): APIServices that
// name a Service hand their group version to an extension API server. Each is
// checked now and every 30 s (the Service, its endpoints, the server's
// discovery answering) and its Available condition written as kube-aggregator
// words it; requests for an available one are passed on, for an unavailable
// one answered 503; discovery lists its resources in place of any served here.

type Condition = NonNullable<NonNullable<ApiService['status']>['conditions']>[number];

interface ApiResourceList {
  resources?: { name: string; singularName?: string; namespaced?: boolean; kind: string; verbs?: string[]; shortNames?: string[]; categories?: string[] }[];
}

export interface AggregatorOptions extends Omit<ExtensionClient, 'resolve'> {
  apiServices: () => Registry;
  services: () => Registry;
  endpointSlices: () => Registry;
  log: Logger;
  /** how often every extension server is checked (kube-aggregator: 30 s) */
  checkIntervalMs?: number;
}

const CHECK_INTERVAL_MS = 30_000;
const DISCOVERY_TIMEOUT_MS = 5_000;

/** The path of a group version's discovery. */
const discoveryPath = (s: ApiService) => (s.spec.group ? `/apis/${s.spec.group}/${s.spec.version}` : `/api/${s.spec.version}`);

/** A remote group version's resources as discovery lists them here. */
function resourcesOf(s: ApiService, list: ApiResourceList): ResourceInfo[] {
  const group = s.spec.group ?? '';
  const version = s.spec.version ?? '';
  const infos = new Map<string, ResourceInfo>();
  for (const r of list.resources ?? []) {
    if (r.name.includes('/')) continue;
    infos.set(r.name, {
      group,
      version,
      resource: r.name,
      kind: r.kind,
      singular: r.singularName || r.kind.toLowerCase(),
      namespaced: !!r.namespaced,
      verbs: r.verbs ?? [],
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
      virtual: true,
    });
  }
  for (const r of list.resources ?? []) {
    const [parent, sub] = r.name.split('/');
    const info = infos.get(parent ?? '');
    if (info && sub) info.subresources = [...(info.subresources ?? []), sub];
  }
  return [...infos.values()];
}

export class Aggregator {
  readonly #apiServices = new Map<string, Obj>();
  /** what each available remote APIService's server says it serves */
  readonly #discovered = new Map<string, ResourceInfo[]>();
  readonly #o: AggregatorOptions;
  #timer: NodeJS.Timeout | undefined;
  /** the remote APIServices by the Service (namespace/name) they point at */
  #byBackend = new Map<string, string[]>();
  /** checks under way, by APIService name, so a burst of events checks once */
  readonly #checking = new Map<string, Promise<void>>();
  /** how extension servers are reached: at a ready endpoint of their Service */
  readonly #client: ExtensionClient;

  constructor(o: AggregatorOptions) {
    this.#o = o;
    this.#client = { ...o, resolve: (namespace, name, port) => this.#endpoint(namespace, name, port) };
  }

  /** A ready endpoint of the Service's port: the slice port of the same name (the Service port's target). */
  async #endpoint(namespace: string, name: string, port: number): Promise<{ host: string; port: number }> {
    const service = await this.#o.services().get(namespace, name);
    const servicePort = ((service.spec as { ports?: { name?: string; port: number }[] } | undefined)?.ports ?? []).find((p) => p.port === port);
    if (!servicePort) throw new Error(`service/${name} in "${namespace}" is not listening on port ${port}`);
    for (const slice of await this.#slicesOf(namespace, name)) {
      const slicePort = slice.ports?.find((p) => (p.name ?? '') === (servicePort.name ?? ''));
      const ready = slice.endpoints?.find((e) => e.addresses?.length && e.conditions?.ready !== false);
      if (slicePort?.port && ready) return { host: ready.addresses[0] as string, port: slicePort.port };
    }
    throw new Error(`no endpoints for service/${name} in "${namespace}"`);
  }

  async #slicesOf(namespace: string, name: string): Promise<EndpointSlice[]> {
    return (await this.#o.endpointSlices().list({ namespace })).items.filter(
      (e) => e.metadata.labels?.['kubernetes.io/service-name'] === name,
    ) as unknown as EndpointSlice[];
  }

  /** The feed keeping the APIServices in step with the store; a changed remote one is checked at once. */
  feed(): ListWatchHandlers {
    const held = mapFeed(this.#apiServices, (o) => o);
    return {
      list: (items) => {
        held.list(items);
        this.#indexBackends();
        for (const o of items) this.#checkSoon(o.metadata.name as string);
      },
      event: (e) => {
        held.event(e);
        this.#indexBackends();
        if (e.type === 'ADDED' || e.type === 'MODIFIED') this.#checkSoon(e.object.metadata.name as string);
        if (e.type === 'DELETED') this.#discovered.delete(e.object.metadata.name as string);
      },
    };
  }

  #indexBackends(): void {
    this.#byBackend = new Map();
    for (const [name, o] of this.#apiServices) {
      const ref = asApiService(o).spec?.service;
      if (!ref) continue;
      const key = `${ref.namespace}/${ref.name}`;
      this.#byBackend.set(key, [...(this.#byBackend.get(key) ?? []), name]);
    }
  }

  /**
   * A feed of Services or EndpointSlices: a change to what a remote APIService
   * points at checks it at once (its endpoints gone, its Service made).
   */
  backendFeed(kind: 'services' | 'endpointslices'): ListWatchHandlers {
    const serviceOf = (o: Obj) => `${o.metadata.namespace}/${kind === 'services' ? o.metadata.name : o.metadata.labels?.['kubernetes.io/service-name']}`;
    return {
      list: () => {},
      event: (e) => {
        if (this.#byBackend.size === 0 || (e.type !== 'ADDED' && e.type !== 'MODIFIED' && e.type !== 'DELETED')) return;
        for (const name of this.#byBackend.get(serviceOf(e.object)) ?? []) this.#checkSoon(name);
      },
    };
  }

  start(): void {
    this.#timer = setInterval(() => {
      for (const name of this.#apiServices.keys()) this.#checkSoon(name);
    }, this.#o.checkIntervalMs ?? CHECK_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The APIService handing this group version to an extension server, if one does. */
  remoteFor(group: string, version: string): ApiService | undefined {
    const held = this.#apiServices.get(apiServiceName(group, version));
    const s = held && asApiService(held);
    return s?.spec?.service ? s : undefined;
  }

  /** What discovery lists: the resources served here, less the group versions extension servers took, plus what the available ones serve. */
  served(local: ResourceInfo[]): ResourceInfo[] {
    if (this.#byBackend.size === 0) return local;
    const remote = local.filter((r) => !this.remoteFor(r.group, r.version));
    for (const [name, infos] of this.#discovered) if (this.#apiServices.has(name)) remote.push(...infos);
    return remote;
  }

  /**
   * The /openapi/v3 index entries of the available remote group versions:
   * their documents are the extension servers' own, fetched through here
   * (the hash changes with what their discovery says).
   */
  openApiPaths(): Record<string, { serverRelativeURL: string }> {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [name, infos] of this.#discovered) {
      const held = this.#apiServices.get(name);
      if (!held) continue;
      const s = asApiService(held);
      const path = discoveryPath(s).slice(1);
      const hash = createHash('sha256').update(JSON.stringify(infos)).digest('hex').slice(0, 32).toUpperCase();
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
    }
    return paths;
  }

  /** Passes a request for a remote group version on, or answers 503 while its server is unavailable. */
  async proxy(s: ApiService, p: { req: IncomingMessage; res: ServerResponse; user: UserInfo; pathAndQuery: string }): Promise<void> {
    const available = s.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
    if (!available) throw new ApiError('ServiceUnavailable', 'service unavailable');
    await proxyToExtension(this.#client, s, p);
  }

  #checkSoon(name: string): void {
    if (this.#checking.has(name)) return;
    const run = this.#check(name)
      .catch((err: Error) => this.#o.log.warn({ apiService: name, err: err.message }, 'checking an APIService failed'))
      .finally(() => this.#checking.delete(name));
    this.#checking.set(name, run);
  }

  async #check(name: string): Promise<void> {
    const held = this.#apiServices.get(name);
    if (!held) return;
    const s = asApiService(held);
    const condition = s.spec?.service ? await this.#probe(name, s) : { status: 'True', reason: 'Local', message: 'Local APIServices are always available' };
    const previous = s.status?.conditions?.find((c) => c.type === 'Available');
    if (previous && previous.status === condition.status && previous.reason === condition.reason && previous.message === condition.message) return;
    const available: Condition = {
      type: 'Available',
      ...condition,
      lastTransitionTime: previous?.status === condition.status && previous.lastTransitionTime ? previous.lastTransitionTime : rfc3339(),
    };
    const others = (s.status?.conditions ?? []).filter((c) => c.type !== 'Available');
    try {
      await this.#o
        .apiServices()
        .update(undefined, name, { ...held, status: { ...(s.status ?? {}), conditions: [...others, available] } }, { subresource: 'status' });
    } catch (err) {
      // changed meanwhile (its event checks it again) or gone
      if (!(err instanceof ApiError && (err.code === 409 || err.code === 404))) throw err;
    }
    if (condition.status !== previous?.status) this.#o.log.info({ apiService: name, ...condition }, 'APIService availability changed');
  }

  /** kube-aggregator's checks in its order: the Service, its port, its endpoints, then the server's discovery of the group version. */
  async #probe(name: string, s: ApiService): Promise<Omit<Condition, 'type' | 'lastTransitionTime'>> {
    const ref = s.spec.service ?? {};
    const namespace = ref.namespace ?? '';
    let service: Obj;
    try {
      service = await this.#o.services().get(namespace, ref.name ?? '');
    } catch (err) {
      if (err instanceof ApiError && err.code === 404)
        return { status: 'False', reason: 'ServiceNotFound', message: `service/${ref.name} in "${namespace}" is not present` };
      throw err;
    }
    const ports = (service.spec as { ports?: { name?: string; port: number }[] } | undefined)?.ports ?? [];
    const port = ports.find((p) => p.port === (ref.port ?? 443));
    if (!port)
      return { status: 'False', reason: 'ServicePortError', message: `service/${ref.name} in "${namespace}" is not listening on port ${ref.port ?? 443}` };
    const slices = await this.#slicesOf(namespace, ref.name ?? '');
    const ready = slices.some((e) => (e.endpoints ?? []).some((ep) => ep.addresses?.length && ep.conditions?.ready !== false));
    if (!ready)
      return {
        status: 'False',
        reason: 'MissingEndpoints',
        message: `endpoints for service/${ref.name} in "${namespace}" have no addresses with port name "${port.name ?? ''}"`,
      };
    const path = discoveryPath(s);
    try {
      const answer = await extensionGet(this.#client, s, path, DISCOVERY_TIMEOUT_MS);
      if (answer.status !== 200) throw Object.assign(new Error(`bad status from ${answer.url}: ${answer.status}`), { url: answer.url });
      this.#discovered.set(name, resourcesOf(s, JSON.parse(answer.body) as ApiResourceList));
      return { status: 'True', reason: 'Passed', message: 'all checks passed' };
    } catch (err) {
      this.#discovered.delete(name);
      const url = (err as { url?: string }).url ?? path;
      return { status: 'False', reason: 'FailedDiscoveryCheck', message: `failing or missing response from ${url}: ${(err as Error).message}` };
    }
  }
}
