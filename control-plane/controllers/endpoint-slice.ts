import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import {
  SERVICE_NAME_LABEL,
  defineController,
  objectKey,
  primary,
  watch,
  type Informer,
  type RestClient,
  type RunnableController,
} from '../../apimachinery/index.ts';
import { deleteExact, type Controller, type ControllerContext } from './context.ts';
import { selectedPods, serviceEndpoints, servicesSelecting, type EndpointGroup } from './service-endpoints.ts';
import { ENDPOINT_SLICES, PODS, SERVICES } from './shared-informers.ts';

export { SERVICE_NAME_LABEL };
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const MANAGED_BY = 'endpointslice-controller.k8s.io';
/** Most endpoints in one slice, kube-controller-manager's default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** What a slice should hold, without identity or bookkeeping. */
function sliceBody(svc: Service, group: EndpointGroup, endpoints: EndpointGroup['endpoints']): SliceBody {
  return {
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
      ...(e.pod.spec?.nodeName ? { nodeName: e.pod.spec.nodeName } : {}),
      ...(e.pod.spec?.hostname && e.pod.spec.subdomain === svc.metadata?.name ? { hostname: e.pod.spec.hostname } : {}),
      targetRef: { kind: 'Pod', namespace: e.pod.metadata?.namespace, name: e.pod.metadata?.name, uid: e.pod.metadata?.uid },
    })),
    ports: group.ports,
  };
}

type SliceBody = Pick<EndpointSlice, 'addressType' | 'endpoints' | 'ports'>;

/** Whether a slice already holds what it should. */
export const sameContent = (a: SliceBody, b: SliceBody) =>
  a.addressType === b.addressType &&
  JSON.stringify(a.endpoints ?? []) === JSON.stringify(b.endpoints ?? []) &&
  JSON.stringify(a.ports ?? []) === JSON.stringify(b.ports ?? []);

/**
 * Makes a Service's slices of one controller hold `wanted`: a slice that
 * holds a body already is left alone, another of the same address type
 * rewritten, missing ones created under `metadata`, the rest deleted.
 */
export async function writeSlices(
  client: RestClient,
  w: { namespace: string; existing: EndpointSlice[]; wanted: SliceBody[]; metadata: NonNullable<EndpointSlice['metadata']> },
): Promise<void> {
  const ref = { ...ENDPOINT_SLICES, version: 'v1', namespace: w.namespace };
  const spare = [...w.existing];
  const fresh: SliceBody[] = [];
  for (const body of w.wanted) {
    const same = spare.findIndex((s) => sameContent(s, body));
    if (same >= 0) spare.splice(same, 1);
    else fresh.push(body);
  }
  for (const body of fresh) {
    const reuse = spare.findIndex((s) => s.addressType === body.addressType);
    if (reuse < 0) {
      await client.create(ref, { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: w.metadata, ...body });
      continue;
    }
    const [slice] = spare.splice(reuse, 1) as [EndpointSlice];
    const { labels, annotations } = w.metadata;
    await client.update(
      { ...ref, name: slice.metadata?.name },
      { ...slice, ...body, metadata: { ...slice.metadata, labels, ...(annotations ? { annotations } : {}) } },
    );
  }
  for (const s of spare) await deleteExact(client, ref, s);
}

/** The slices of a Service that one controller (by its managed-by value) keeps. */
export function managedSlices(slices: Informer<EndpointSlice>, namespace: string, service: string, managedBy: string): EndpointSlice[] {
  return slices
    .list()
    .filter(
      (s) =>
        s.metadata?.namespace === namespace && s.metadata?.labels?.[SERVICE_NAME_LABEL] === service && s.metadata?.labels?.[MANAGED_BY_LABEL] === managedBy,
    );
}

/**
 * Keeps the EndpointSlices of every Service with a selector: its matching
 * pods' addresses and ready/serving/terminating conditions, at most 100 per
 * slice, one set of slices per port mapping. Slices are rewritten only when
 * their content changes, and go with their Service.
 */
export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #services: Informer<Service>;
  #pods: Informer<Pod>;
  #slices: Informer<EndpointSlice>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#services = ctx.informers.for<Service>(SERVICES);
    this.#pods = ctx.informers.for<Pod>(PODS);
    this.#slices = ctx.informers.for<EndpointSlice>(ENDPOINT_SLICES);
    // a slice of ours that goes is made again for its Service
    const sliceOwner = (s: EndpointSlice) => {
      const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      return svc && s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY ? `${s.metadata?.namespace}/${svc}` : undefined;
    };
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 4,
      watches: [
        primary(this.#services),
        watch(this.#pods, (pod, old) => servicesSelecting(this.#services.list(), pod, old).map(objectKey)),
        watch(this.#slices, sliceOwner, ['delete']),
      ],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const svc = this.#services.get(key);
    const existing = managedSlices(this.#slices, namespace, name, MANAGED_BY);
    if (!svc?.spec?.selector || svc.metadata?.deletionTimestamp) {
      for (const s of existing) await this.#delete(s);
      return;
    }
    const pods = selectedPods(svc, this.#pods.list());
    const wanted: SliceBody[] = [];
    for (const group of serviceEndpoints(svc, pods)) {
      for (let i = 0; i < group.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE)
        wanted.push(sliceBody(svc, group, group.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE)));
    }
    // a Service with no endpoints still has one (placeholder) slice
    if (wanted.length === 0) wanted.push({ addressType: 'IPv4', endpoints: [], ports: [] });

    const labels = { ...svc.metadata?.labels, [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
    const owner = { apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
    await writeSlices(this.#ctx.client, { namespace, existing, wanted, metadata: { generateName: `${name}-`, labels, ownerReferences: [owner] } });
  }

  #delete(slice: EndpointSlice): Promise<boolean> {
    return deleteExact(this.#ctx.client, { ...ENDPOINT_SLICES, namespace: slice.metadata?.namespace }, slice);
  }
}
