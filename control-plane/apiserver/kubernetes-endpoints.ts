import { createHash } from 'node:crypto';
import {
  ApiError,
  ENDPOINTSLICE_MANAGED_BY_LABEL,
  ENDPOINTSLICE_SKIP_MIRROR_LABEL,
  SERVICE_NAME_LABEL,
  fromObjectSelector,
  leaseLive,
  microTime,
  waitAtMost,
  type Logger,
} from '../../apimachinery/index.ts';
import type { Obj } from '../api/index.ts';
import type { Registry } from './registry.ts';

/** How often a server renews its Lease and writes the endpoints; a Lease not renewed for LEASE_SECONDS is a server gone. */
const RECONCILE_MS = 10_000;
const LEASE_SECONDS = 15;
const LEASE_NAMESPACE = 'kube-system';
/** marks the Leases of this reconciler, each naming one server's address and port */
const ENDPOINT_LEASE_LABEL = 'skiff.dev/apiserver-endpoint';
const SERVICE = { namespace: 'default', name: 'kubernetes' };
const STOP_LIMIT_MS = 2000;

export interface KubernetesEndpointsOptions {
  leases: Registry;
  endpoints: Registry;
  endpointSlices: Registry;
  /** the address and port clients reach this server at */
  address: string;
  port: number;
  log: Logger;
  now?: () => number;
}

/**
 * The kubernetes Service's endpoints, as kube-apiserver's lease reconciler
 * keeps them: every server renews a Lease of its own in kube-system naming
 * its address and port, and writes the servers whose Leases are live into
 * default/kubernetes's Endpoints (labelled so EndpointSlice mirroring leaves
 * them alone) and its EndpointSlice. Pods reach the API at the Service's
 * cluster IP through these. A server that stops takes itself out.
 */
export class KubernetesEndpoints {
  readonly #o: KubernetesEndpointsOptions;
  readonly #leaseName: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: KubernetesEndpointsOptions) {
    this.#o = o;
    this.#leaseName = `apiserver-endpoint-${createHash('sha256').update(`${o.address}:${o.port}`).digest('hex').slice(0, 16)}`;
  }

  start(): void {
    const tick = () =>
      this.reconcile().catch((err: Error) => this.#o.log.warn({ err: err.message }, 'writing the kubernetes Service endpoints failed; trying again'));
    void tick();
    this.#timer = setInterval(tick, RECONCILE_MS);
    this.#timer.unref();
  }

  /** Stops renewing, gives the Lease up and writes the endpoints without this server (for at most 2 s: a store that does not answer does not hold a shutdown up). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const leave = async () => {
      await this.#o.leases.delete(LEASE_NAMESPACE, this.#leaseName).catch(() => undefined);
      await this.#write(await this.#liveServers(false)).catch(() => undefined);
    };
    await waitAtMost(STOP_LIMIT_MS, leave());
  }

  async reconcile(): Promise<void> {
    await this.#renew();
    await this.#write(await this.#liveServers(true));
  }

  async #renew(): Promise<void> {
    const spec = { holderIdentity: `${this.#o.address}:${this.#o.port}`, leaseDurationSeconds: LEASE_SECONDS, renewTime: microTime(new Date(this.#now())) };
    const current = await this.#o.leases.get(LEASE_NAMESPACE, this.#leaseName).catch(notFound);
    if (!current) {
      const metadata = { name: this.#leaseName, namespace: LEASE_NAMESPACE, labels: { [ENDPOINT_LEASE_LABEL]: 'true' } };
      await this.#o.leases.create(LEASE_NAMESPACE, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec });
    } else await this.#o.leases.update(LEASE_NAMESPACE, this.#leaseName, { ...current, spec });
  }

  /** The address and port of every server whose Lease is live, sorted (this one's whether or not, as `self` says). */
  async #liveServers(self: boolean): Promise<{ ip: string; port: number }[]> {
    const { items } = await this.#o.leases.list({
      namespace: LEASE_NAMESPACE,
      labels: fromObjectSelector({ matchLabels: { [ENDPOINT_LEASE_LABEL]: 'true' } }),
    });
    const own = `${this.#o.address}:${this.#o.port}`;
    const live = new Set<string>(self ? [own] : []);
    for (const lease of items) {
      const spec = lease.spec as { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string } | undefined;
      if (!spec?.holderIdentity || (!self && spec.holderIdentity === own)) continue;
      if (leaseLive(spec, this.#now(), LEASE_SECONDS)) live.add(spec.holderIdentity);
    }
    return [...live].sort().map((s) => ({ ip: s.slice(0, s.lastIndexOf(':')), port: Number(s.slice(s.lastIndexOf(':') + 1)) }));
  }

  /** default/kubernetes's Endpoints and EndpointSlice as the servers given, each written only when it differs. */
  async #write(servers: { ip: string; port: number }[]): Promise<void> {
    const ports = [...new Set(servers.map((s) => s.port))];
    const subsets = ports.map((port) => ({
      addresses: servers.filter((s) => s.port === port).map((s) => ({ ip: s.ip })),
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    }));
    await this.#put(this.#o.endpoints, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...SERVICE, labels: { [ENDPOINTSLICE_SKIP_MIRROR_LABEL]: 'true' } },
      subsets,
    });
    await this.#put(this.#o.endpointSlices, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { ...SERVICE, labels: { [SERVICE_NAME_LABEL]: SERVICE.name, [ENDPOINTSLICE_MANAGED_BY_LABEL]: 'skiff-apiserver' } },
      addressType: 'IPv4',
      endpoints: servers.filter((s) => s.port === ports[0]).map((s) => ({ addresses: [s.ip], conditions: { ready: true, serving: true, terminating: false } })),
      ports: ports.slice(0, 1).map((port) => ({ name: 'https', port, protocol: 'TCP' })),
    });
  }

  /** Creates `obj`, or replaces what is there if its content differs (a conflict with another server's write is left to the next round). */
  async #put(registry: Registry, obj: Obj): Promise<void> {
    const current = await registry.get(SERVICE.namespace, SERVICE.name).catch(notFound);
    if (!current) {
      await registry.create(SERVICE.namespace, obj);
      return;
    }
    const { metadata: _m, ...want } = obj;
    const { metadata, ...have } = current;
    const sameLabels = Object.entries(obj.metadata.labels ?? {}).every(([k, v]) => metadata.labels?.[k] === v);
    if (sameLabels && JSON.stringify(pick(have, Object.keys(want))) === JSON.stringify(want)) return;
    await registry.update(SERVICE.namespace, SERVICE.name, {
      ...current,
      ...want,
      metadata: { ...metadata, labels: { ...metadata.labels, ...obj.metadata.labels } },
    });
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}

function notFound(err: unknown): undefined {
  if (err instanceof ApiError && err.code === 404) return undefined;
  throw err;
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}
