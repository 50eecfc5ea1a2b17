import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { defineController, objectKey, primary, watch, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { NODES, SERVICES } from './shared-informers.ts';

// k3s's ServiceLB, without its pods: a LoadBalancer Service (of no
// loadBalancerClass) is given the InternalIPs of the Ready nodes as its
// status.loadBalancer.ingress, which every node's Service proxy answers on;
// a Service that stops being one loses them.

type LoadBalancerIngress = NonNullable<NonNullable<NonNullable<Service['status']>['loadBalancer']>['ingress']>;

const isReady = (n: Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const internalIP = (n: Node) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;

export class ServiceLoadBalancerController implements Controller {
  readonly name = 'service-lb-controller';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #services: Informer<Service>;
  #nodes: Informer<Node>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#services = ctx.informers.for<Service>(SERVICES);
    this.#nodes = ctx.informers.for<Node>(NODES);
    // a node's readiness or address changes every LoadBalancer's addresses
    const loadBalancers = () =>
      this.#services
        .list()
        .filter((s) => s.spec?.type === 'LoadBalancer')
        .map(objectKey);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 1,
      backoff: { baseDelayMs: 200, maxDelayMs: 30_000 },
      watches: [primary(this.#services, ['add', 'update']), watch(this.#nodes, loadBalancers, ['add', 'update', 'delete'])],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  /** The addresses a Service should be reachable at: the Ready nodes' InternalIPs, for a LoadBalancer of ours. */
  #wanted(svc: Service): LoadBalancerIngress {
    if (svc.spec?.type !== 'LoadBalancer') return [];
    const ips = this.#nodes
      .list()
      .filter(isReady)
      .map(internalIP)
      .filter((ip): ip is string => !!ip);
    return [...new Set(ips)].sort().map((ip) => ({ ip, ipMode: 'VIP' }));
  }

  async sync(key: string): Promise<void> {
    const svc = this.#services.get(key);
    if (!svc) return;
    // another controller's class: its addresses are its own
    if (svc.spec?.loadBalancerClass) return;
    const wanted = this.#wanted(svc);
    const held = svc.status?.loadBalancer?.ingress ?? [];
    if (JSON.stringify(held) === JSON.stringify(wanted)) return;
    await this.#ctx.client.update(
      { ...SERVICES, version: 'v1', namespace: svc.metadata?.namespace, name: svc.metadata?.name, subresource: 'status' },
      { ...svc, status: { ...svc.status, loadBalancer: wanted.length ? { ingress: wanted } : {} } },
    );
  }
}
