import { spawn } from 'node:child_process';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Informer, objectKey, type Logger, type RestClient } from '../../apimachinery/index.ts';
import { buildModel, renderRuleset, renderUpdate, type ProxyModel, type ServicePortRule } from './ruleset.ts';

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

/**
 * The Service proxy (kube-proxy's nftables mode, in the agent): watches
 * Services and EndpointSlices and keeps one nftables table in step with them:
 * shortly after each change, one atomic `nft` transaction carries only what
 * changed; the first sync, one after a failure and an hourly one rewrite the
 * whole table.
 */
export class ServiceProxy {
  #client: RestClient;
  #log: Logger;
  #table: string;
  #clusterCidr: string;
  #nodeName: string;
  #services: Informer<Service>;
  #slices: Informer<EndpointSlice>;
  #timer: NodeJS.Timeout | undefined;
  /** what the table holds now; undefined: unknown, rewrite it whole */
  #applied: ProxyModel | undefined;
  #lastFullSync = 0;
  #syncing: Promise<void> = Promise.resolve();

  constructor(client: RestClient, opts: { table: string; clusterCidr: string; nodeName: string }, log: Logger) {
    this.#client = client;
    this.#log = log.child({ component: 'proxy' });
    this.#table = opts.table;
    this.#clusterCidr = opts.clusterCidr;
    this.#nodeName = opts.nodeName;
    this.#services = new Informer<Service>(client, { resource: 'services' }, { log: this.#log });
    this.#slices = new Informer<EndpointSlice>(client, { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }, { log: this.#log });
    const changed = () => this.#schedule();
    for (const informer of [this.#services, this.#slices] as Informer<object>[]) informer.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  async run(signal: AbortSignal): Promise<void> {
    void this.#services.run(signal);
    void this.#slices.run(signal);
    await Promise.all([this.#services.hasSynced(), this.#slices.hasSynced()]);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#syncing = this.#syncing.then(() => this.#sync());
    }, DEBOUNCE_MS);
    this.#timer.unref();
  }

  async #sync(): Promise<void> {
    const slicesByService = new Map<string, EndpointSlice[]>();
    for (const s of this.#slices.list()) {
      const name = s.metadata?.labels?.['kubernetes.io/service-name'];
      if (!name) continue;
      const key = `${s.metadata?.namespace}/${name}`;
      slicesByService.set(key, [...(slicesByService.get(key) ?? []), s]);
    }
    const rules = this.#services.list().flatMap((svc) => serviceRules(svc, slicesByService.get(objectKey(svc)) ?? [], this.#nodeName));
    const opts = { table: this.#table, clusterCidr: this.#clusterCidr };
    const model = buildModel(rules, opts);
    const full = !this.#applied || Date.now() - this.#lastFullSync > FULL_SYNC_MS;
    const script = full ? renderRuleset(model, opts) : renderUpdate(this.#applied as ProxyModel, model, this.#table);
    if (!script) return;
    try {
      await nft(script);
      this.#applied = model;
      if (full) this.#lastFullSync = Date.now();
      this.#log.debug({ servicePorts: rules.length, full }, 'programmed services');
    } catch (err) {
      this.#applied = undefined;
      this.#log.error({ err: (err as Error).message, full }, 'could not program services');
      setTimeout(() => this.#schedule(), 5000).unref();
    }
  }
}
