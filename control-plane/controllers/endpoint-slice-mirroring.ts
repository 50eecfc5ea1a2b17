import { isIPv6 } from 'node:net';
import type { EndpointAddress, Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import {
  ENDPOINTSLICE_SKIP_MIRROR_LABEL,
  SERVICE_NAME_LABEL,
  defineController,
  primary,
  watch,
  type Informer,
  type RunnableController,
} from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { MANAGED_BY_LABEL, managedSlices, writeSlices } from './endpoint-slice.ts';
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from './shared-informers.ts';

const MANAGED_BY = 'endpointslicemirroring-controller.k8s.io';
/** addresses mirrored from one subset at most (--mirroring-max-endpoints-per-subset) */
export const MAX_MIRRORED_PER_SUBSET = 1000;
/** annotations of an Endpoints that say something of it alone, left off its slices */
const UNMIRRORED_ANNOTATIONS = ['endpoints.kubernetes.io/last-change-trigger-time', 'kubectl.kubernetes.io/last-applied-configuration'];

type SliceBody = Pick<EndpointSlice, 'addressType' | 'endpoints' | 'ports'>;

/** The slices an Endpoints' subsets become: per subset and address family, ready and not-ready addresses with the subset's ports. */
export function mirroredSlices(endpoints: Endpoints): SliceBody[] {
  const slices: SliceBody[] = [];
  for (const subset of endpoints.subsets ?? []) {
    const all = [...(subset.addresses ?? []).map((a) => ({ a, ready: true })), ...(subset.notReadyAddresses ?? []).map((a) => ({ a, ready: false }))].slice(
      0,
      MAX_MIRRORED_PER_SUBSET,
    );
    const ports = (subset.ports ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    for (const family of ['IPv4', 'IPv6'] as const) {
      const mine = all.filter(({ a }) => isIPv6(a.ip) === (family === 'IPv6'));
      if (!mine.length) continue;
      slices.push({ addressType: family, endpoints: mine.map(({ a, ready }) => endpointOf(a, ready)), ports });
    }
  }
  return slices;
}

function endpointOf(a: EndpointAddress, ready: boolean): NonNullable<EndpointSlice['endpoints']>[number] {
  return {
    addresses: [a.ip],
    conditions: { ready },
    ...(a.hostname ? { hostname: a.hostname } : {}),
    ...(a.nodeName ? { nodeName: a.nodeName } : {}),
    ...(a.targetRef ? { targetRef: a.targetRef } : {}),
  };
}

/**
 * kube-controller-manager's endpointslicemirroring controller: the Endpoints
 * of a Service without a selector (written by hand or by another system) are
 * mirrored into EndpointSlices, so everything that reads slices (the proxy,
 * DNS) sees them; the slices follow the Endpoints as it changes and go with
 * it, or when the Service gains a selector or goes.
 */
export class EndpointSliceMirroringController implements Controller {
  readonly name = 'endpointslice-mirroring';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #endpoints: Informer<Endpoints>;
  #services: Informer<Service>;
  #slices: Informer<EndpointSlice>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#endpoints = ctx.informers.for<Endpoints>(ENDPOINTS);
    this.#services = ctx.informers.for<Service>(SERVICES);
    this.#slices = ctx.informers.for<EndpointSlice>(ENDPOINT_SLICES);
    const key = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace}/${o.metadata?.name}`;
    const mirrorOf = (s: EndpointSlice) =>
      s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY ? `${s.metadata?.namespace}/${s.metadata?.labels?.[SERVICE_NAME_LABEL]}` : undefined;
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      watches: [primary(this.#endpoints), watch(this.#services, key), watch(this.#slices, mirrorOf, ['delete'])],
      reconcile: (k) => this.sync(k),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const endpoints = this.#endpoints.get(key);
    const svc = this.#services.get(key);
    const existing = managedSlices(this.#slices, namespace, name, MANAGED_BY);
    const mirrored =
      endpoints &&
      svc &&
      !svc.spec?.selector &&
      !endpoints.metadata?.deletionTimestamp &&
      endpoints.metadata?.labels?.[ENDPOINTSLICE_SKIP_MIRROR_LABEL] !== 'true';
    const wanted = mirrored ? mirroredSlices(endpoints) : [];
    const labels = { ...endpoints?.metadata?.labels, [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
    const annotations = Object.fromEntries(Object.entries(endpoints?.metadata?.annotations ?? {}).filter(([k]) => !UNMIRRORED_ANNOTATIONS.includes(k)));
    const owner = { apiVersion: 'v1', kind: 'Endpoints', name, uid: endpoints?.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
    await writeSlices(this.#ctx.client, { namespace, existing, wanted, metadata: { generateName: `${name}-`, labels, annotations, ownerReferences: [owner] } });
  }
}
