import type { Node } from 'kubernetes-types/core/v1.js';
import { IndexAllocator, defineController, intToIpv4, ipv4ToInt, objectKey, watch, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { NODES } from './shared-informers.ts';

export interface NodeIpamOptions {
  /** the cluster's pod network (kube: --cluster-cidr) */
  clusterCidr: string;
  /** the prefix length of each node's share (kube: --node-cidr-mask-size, 24) */
  nodeMaskSize: number;
}

/** The node subnets of a cluster CIDR, in order: 10.244.0.0/16 by /24 → 10.244.0.0/24 … 10.244.255.0/24. */
export class CidrSet {
  readonly #base: number;
  readonly #count: number;
  readonly #size: number;
  readonly #mask: number;
  #slots: IndexAllocator;

  constructor(clusterCidr: string, nodeMaskSize: number) {
    const [ip, bits] = clusterCidr.split('/');
    const prefix = Number(bits);
    if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !(prefix >= 0 && prefix <= 32) || !(nodeMaskSize >= prefix && nodeMaskSize <= 32))
      throw new Error(`cannot split ${clusterCidr} into /${nodeMaskSize} node ranges`);
    this.#size = 2 ** (32 - nodeMaskSize);
    this.#base = Math.floor(ipv4ToInt(ip) / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
    this.#count = 2 ** (nodeMaskSize - prefix);
    this.#mask = nodeMaskSize;
    this.#slots = new IndexAllocator(this.#count);
  }

  /** The index of a node CIDR inside this set, or -1 when it is elsewhere. */
  #indexOf(cidr: string): number {
    const [ip, bits] = cidr.split('/');
    if (!ip || Number(bits) !== this.#mask) return -1;
    const offset = ipv4ToInt(ip) - this.#base;
    return offset >= 0 && offset % this.#size === 0 && offset / this.#size < this.#count ? offset / this.#size : -1;
  }

  occupy(cidr: string): void {
    const i = this.#indexOf(cidr);
    if (i >= 0) this.#slots.occupy(i);
  }

  release(cidr: string): void {
    const i = this.#indexOf(cidr);
    if (i >= 0) this.#slots.release(i);
  }

  /** The next free node CIDR, or null when all are taken. */
  allocate(): string | null {
    const i = this.#slots.allocate();
    return i === null ? null : `${intToIpv4(this.#base + i * this.#size)}/${this.#mask}`;
  }
}

/**
 * Node IPAM (kube's range allocator): every node without spec.podCIDR gets
 * the next free subnet of the cluster CIDR; CIDRs nodes already carry are
 * taken as used, and a deleted node's goes back to the pool.
 */
export class NodeIpamController implements Controller {
  readonly name = 'node-ipam';
  #ctx: ControllerContext;
  #cidrs: CidrSet;
  #loop: RunnableController;
  #nodes: Informer<Node>;

  constructor(ctx: ControllerContext, opts: NodeIpamOptions) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#cidrs = new CidrSet(opts.clusterCidr, opts.nodeMaskSize);
    this.#nodes = ctx.informers.for<Node>(NODES);
    // a node with a CIDR holds it (and gives it back when it goes); one without needs one
    const seen = (n: Node) => {
      if (!n.spec?.podCIDR) return objectKey(n);
      this.#cidrs.occupy(n.spec.podCIDR);
      return undefined;
    };
    const gone = (n: Node) => {
      if (n.spec?.podCIDR) this.#cidrs.release(n.spec.podCIDR);
      return undefined;
    };
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      backoff: { baseDelayMs: 100, maxDelayMs: 60_000 },
      watches: [watch(this.#nodes, seen, ['add', 'update']), watch(this.#nodes, gone, ['delete'])],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    if (!node || node.spec?.podCIDR) return;
    const cidr = this.#cidrs.allocate();
    if (!cidr) {
      this.#ctx.events.event(node, 'Warning', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      return;
    }
    try {
      await this.#ctx.client.patch({ ...NODES, name }, { spec: { podCIDR: cidr, podCIDRs: [cidr] } }, 'merge');
      this.#ctx.log.info({ node: name, cidr }, 'assigned pod CIDR');
    } catch (err) {
      this.#cidrs.release(cidr);
      this.#ctx.events.event(node, 'Warning', 'CIDRAssignmentFailed', `Failed to assign ${cidr} to node ${name}: ${(err as Error).message}`);
      throw err;
    }
  }
}
