import { spawn } from 'node:child_process';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { SERVICE_NAME_LABEL, Informer, objectKey, type Logger, type RestClient } from '../../apimachinery/index.ts';
import { emptyFragment, needsFullRewrite, serviceFragment, type Fragment, type RulesetOptions, type ServicePortRule } from './proxy-model.ts';
import { ProxyState } from './proxy-state.ts';
import { renderDelta, renderRuleset } from './ruleset.ts';

/** Changes arriving within this long are programmed together. */
const DEBOUNCE_MS = 100;
/** The whole table is rewritten at least this often, undoing whatever else edited it (kube-proxy: syncPeriod). */
const FULL_SYNC_MS = 60 * 60_000;

/** Runs `nft -f -` with the script on stdin; rejects with nft's complaint. */
export function nft(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('nft', ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nft failed (${code}): ${stderr.trim()}`))));
    child.stdin.end(script);
  });
}

/** Removes the proxy's table, if there is one (`skiff down`, tests, --cleanup). */
export async function cleanupProxy(table: string): Promise<void> {
  await nft(`add table ip ${table}\ndelete table ip ${table}\n`);
}

/** The Service's ports with their endpoints from its EndpointSlices (ready ones, or serving terminating ones when none is ready), as seen from `nodeName`. */
export function serviceRules(svc: Service, slices: EndpointSlice[], nodeName = ''): ServicePortRule[] {
  const spec = svc.spec;
  if (!spec?.clusterIP || spec.clusterIP === 'None' || spec.type === 'ExternalName') return [];
  const rules: ServicePortRule[] = [];
  for (const port of spec.ports ?? []) {
    const protocol = (port.protocol ?? 'TCP').toLowerCase() as ServicePortRule['protocol'];
    const ready: ServicePortRule['endpoints'] = [];
    const fallback: ServicePortRule['endpoints'] = [];
    for (const slice of slices) {
      const target = slice.ports?.find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
      if (!target?.port) continue;
      for (const e of slice.endpoints ?? []) {
        const ip = e.addresses[0];
        if (!ip) continue;
        const endpoint = { ip, port: target.port, ...(nodeName && e.nodeName === nodeName ? { local: true } : {}) };
        if (e.conditions?.ready !== false) ready.push(endpoint);
        else if (e.conditions?.serving && e.conditions.terminating) fallback.push(endpoint);
      }
    }
    const external = [...(spec.externalIPs ?? []), ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip)];
    const exposed = spec.type === 'NodePort' || spec.type === 'LoadBalancer' || external.length > 0;
    rules.push({
      id: `${svc.metadata?.namespace}/${svc.metadata?.name}:${port.name ?? ''}`,
      protocol,
      clusterIP: spec.clusterIP,
      port: port.port,
      nodePort: port.nodePort,
      ...(external.length ? { externalIPs: external } : {}),
      endpoints: ready.length ? ready : fallback,
      ...(spec.sessionAffinity === 'ClientIP' ? { affinitySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 } : {}),
      ...(exposed && spec.externalTrafficPolicy === 'Local' ? { externalLocal: true } : {}),
      ...(spec.internalTrafficPolicy === 'Local' ? { internalLocal: true } : {}),
    });
  }
  return rules;
}

/** The Service an EndpointSlice belongs to, as namespace/name. */
const sliceService = (s: EndpointSlice) =>
  s.metadata?.labels?.[SERVICE_NAME_LABEL] ? `${s.metadata?.namespace}/${s.metadata.labels[SERVICE_NAME_LABEL]}` : undefined;

/**
 * The Service proxy (kube-proxy's nftables mode, in the agent): watches
 * Services and EndpointSlices and keeps one nftables table in step with
 * them. Watch events only note which Services changed; shortly after, one
 * atomic `nft` transaction carries what those Services changed in the table.
 * The first sync, one after a failure and an hourly one rewrite the whole table.
 */
export class ServiceProxy {
  #log: Logger;
  #opts: RulesetOptions;
  #nodeName: string;
  #services: Informer<Service>;
  #slices: Informer<EndpointSlice>;
  /** each Service's EndpointSlices by their keys */
  #slicesOf = new Map<string, Map<string, EndpointSlice>>();
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> = Promise.resolve();
  /** what the table holds; undefined: unknown, rewrite it whole */
  #state: ProxyState | undefined;
  /** Services changed since the last sync */
  #pending = new Set<string>();
  #lastFullSync = 0;
  #synced: ((seconds: number, atMs: number) => void) | undefined;

  /** `services` is an informer the caller runs (the agent shares it); `synced` is told how long each write of the rules took (the proxy's sync metrics) */
  constructor(
    client: RestClient,
    services: Informer<Service>,
    opts: { table: string; clusterCidr: string; nodeName: string; synced?: (seconds: number, atMs: number) => void },
    log: Logger,
  ) {
    this.#log = log.child({ component: 'proxy' });
    this.#synced = opts.synced;
    this.#opts = { table: opts.table, clusterCidr: opts.clusterCidr };
    this.#nodeName = opts.nodeName;
    this.#services = services;
    this.#slices = new Informer<EndpointSlice>(client, { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }, { log: this.#log });
    const serviceChanged = (svc: Service) => this.#changed(objectKey(svc));
    this.#services.addHandlers({ onAdd: serviceChanged, onUpdate: (_old, svc) => serviceChanged(svc), onDelete: serviceChanged });
    this.#slices.addHandlers({
      onAdd: (slice) => this.#indexSlice(slice, true),
      onUpdate: (old, slice) => {
        this.#indexSlice(old, false);
        this.#indexSlice(slice, true);
      },
      onDelete: (slice) => this.#indexSlice(slice, false),
    });
  }

  #indexSlice(slice: EndpointSlice, present: boolean): void {
    const svc = sliceService(slice);
    if (!svc) return;
    const key = objectKey(slice);
    let slices = this.#slicesOf.get(svc);
    if (present) {
      if (!slices) this.#slicesOf.set(svc, (slices = new Map()));
      slices.set(key, slice);
    } else if (slices) {
      slices.delete(key);
      if (slices.size === 0) this.#slicesOf.delete(svc);
    }
    this.#changed(svc);
  }

  #changed(serviceKey: string): void {
    this.#pending.add(serviceKey);
    this.#schedule();
  }

  async run(signal: AbortSignal): Promise<void> {
    void this.#slices.run(signal);
    await Promise.all([this.#services.hasSynced(), this.#slices.hasSynced()]);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#syncing = this.#syncing.then(() => this.#sync()).catch((err: Error) => this.#log.error({ err: err.message }, 'service proxy sync failed'));
    }, DEBOUNCE_MS);
    this.#timer.unref();
  }

  /** One Service's share of the table, from the informers' current view. */
  #fragment(key: string): Fragment | undefined {
    const svc = this.#services.get(key);
    if (!svc) return undefined;
    const f = emptyFragment();
    for (const rule of serviceRules(svc, [...(this.#slicesOf.get(key)?.values() ?? [])], this.#nodeName)) serviceFragment(rule, this.#opts, f);
    return f;
  }

  async #sync(): Promise<void> {
    const started = performance.now();
    let full = !this.#state || Date.now() - this.#lastFullSync > FULL_SYNC_MS;
    const state = full ? new ProxyState() : (this.#state as ProxyState);
    const changed = full ? this.#services.list().map(objectKey) : [...this.#pending];
    this.#pending.clear();
    for (const key of changed) state.replace(key, this.#fragment(key));
    const delta = state.takeDelta();
    // a picker the table does not have yet can only come with a full rewrite
    if ([...delta.chains.added.keys()].some(needsFullRewrite)) full = true;
    const script = full ? renderRuleset(state.contents(), this.#opts) : renderDelta(delta, this.#opts.table);
    if (!script) return;
    try {
      await nft(script);
      this.#state = state;
      if (full) this.#lastFullSync = Date.now();
      this.#synced?.((performance.now() - started) / 1000, Date.now());
      this.#log.debug({ services: changed.length, full }, 'programmed services');
    } catch (err) {
      // the table is not what the state says: rewrite it whole, a little later
      this.#state = undefined;
      this.#log.error({ err: (err as Error).message, full }, 'could not program services');
      setTimeout(() => this.#schedule(), 5000).unref();
    }
  }
}
