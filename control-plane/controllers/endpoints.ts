import type { EndpointAddress, EndpointSubset, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import {
  ApiError,
  ENDPOINTSLICE_SKIP_MIRROR_LABEL,
  defineController,
  objectKey,
  primary,
  watch,
  type Informer,
  type RunnableController,
} from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { selectedPods, serviceEndpoints, servicesSelecting, type ServiceEndpoint } from './service-endpoints.ts';
import { ENDPOINTS, PODS, SERVICES } from './shared-informers.ts';

function address(e: ServiceEndpoint): EndpointAddress {
  return {
    ip: e.ip,
    ...(e.pod.spec?.nodeName ? { nodeName: e.pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: e.pod.metadata?.namespace, name: e.pod.metadata?.name, uid: e.pod.metadata?.uid },
  };
}

/**
 * The legacy core/v1 Endpoints of each selector Service (one object named
 * after it), for clients that still read them: ready addresses and
 * notReadyAddresses per port mapping.
 */
export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #services: Informer<Service>;
  #pods: Informer<Pod>;
  #endpoints: Informer<Endpoints>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#services = ctx.informers.for<Service>(SERVICES);
    this.#pods = ctx.informers.for<Pod>(PODS);
    this.#endpoints = ctx.informers.for<Endpoints>(ENDPOINTS);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 4,
      watches: [
        primary(this.#services),
        watch(this.#endpoints, objectKey, ['delete']),
        watch(this.#pods, (pod, old) => servicesSelecting(this.#services.list(), pod, old).map(objectKey)),
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
    const current = this.#endpoints.get(key);
    const ref = { ...ENDPOINTS, namespace, name };
    if (!svc?.spec?.selector) {
      // a Service without selector has its Endpoints written by the user; only ours go with the Service
      if (!svc && current?.metadata?.labels?.[ENDPOINTSLICE_SKIP_MIRROR_LABEL])
        await this.#ignoringGone(this.#ctx.client.delete(ref, { preconditions: { uid: current.metadata.uid } }));
      return;
    }
    const pods = selectedPods(svc, this.#pods.list());
    const subsets: EndpointSubset[] = [];
    for (const group of serviceEndpoints(svc, pods)) {
      const ready = group.endpoints.filter((e) => e.ready).map(address);
      const notReady = group.endpoints.filter((e) => !e.ready && !e.terminating).map(address);
      if (!ready.length && !notReady.length) continue;
      subsets.push({
        ...(ready.length ? { addresses: ready } : {}),
        ...(notReady.length ? { notReadyAddresses: notReady } : {}),
        ports: group.ports.map(({ appProtocol: _a, ...p }) => p),
      });
    }
    const labels = { ...svc.metadata?.labels, [ENDPOINTSLICE_SKIP_MIRROR_LABEL]: 'true' };
    const wanted = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, ...(subsets.length ? { subsets } : {}) };
    if (!current) {
      await this.#ignoringGone(this.#ctx.client.create({ ...ENDPOINTS, namespace }, wanted));
      return;
    }
    if (JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) && JSON.stringify(current.metadata?.labels ?? {}) === JSON.stringify(labels)) return;
    await this.#ctx.client.update(ref, { ...wanted, metadata: { ...current.metadata, labels } });
  }

  async #ignoringGone(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      // the Endpoints exist already (created by someone else) or the namespace is going away
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409 || err.code === 403))) throw err;
    }
  }
}
