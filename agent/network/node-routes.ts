import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Node } from 'kubernetes-types/core/v1.js';
import { every } from '../every.ts';
import { waitForWake, type Informer, type Logger } from '../../apimachinery/index.ts';

const run = promisify(execFile);

/** The route protocol the agent marks its routes with (no routing daemon uses it), so it knows which are its own. */
export const ROUTE_PROTOCOL = '171';
const RESYNC_MS = 60_000;
const RETRY_MS = 5_000;

export interface NodeRoute {
  /** another node's pod CIDR */
  dst: string;
  /** that node's address on the shared link */
  via: string;
  /** (VXLAN) the MAC of that node's VXLAN device */
  mac?: string;
}

/** Each other node with a pod CIDR and an InternalIP, with the route to its pods, by pod CIDR. */
export function peerRoutes(nodes: readonly Node[], self: string): { node: Node; route: NodeRoute }[] {
  const out: { node: Node; route: NodeRoute }[] = [];
  for (const node of nodes) {
    const cidr = node.spec?.podCIDR;
    const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (node.metadata?.name === self || !cidr || !ip) continue;
    out.push({ node, route: { dst: cidr, via: ip } });
  }
  return out.sort((a, b) => a.route.dst.localeCompare(b.route.dst));
}

/** The routes a node needs to reach the others' pods directly (host-gw): each other node's pod CIDR through its InternalIP. */
export function desiredRoutes(nodes: readonly Node[], self: string): NodeRoute[] {
  return peerRoutes(nodes, self).map((p) => p.route);
}

/** What to change to go from the routes there are to the ones wanted. */
export function routeChanges(current: readonly NodeRoute[], wanted: readonly NodeRoute[]): { replace: NodeRoute[]; remove: NodeRoute[] } {
  const key = (r: NodeRoute) => `${r.via} ${r.mac ?? ''}`;
  const now = new Map(current.map((r) => [r.dst, key(r)]));
  const want = new Set(wanted.map((r) => r.dst));
  return { replace: wanted.filter((r) => now.get(r.dst) !== key(r)), remove: current.filter((r) => !want.has(r.dst)) };
}

/** The host's routing table as far as the agent's own routes go. */
export interface RouteTable {
  list(): Promise<NodeRoute[]>;
  replace(r: NodeRoute): Promise<void>;
  remove(r: NodeRoute): Promise<void>;
}

/** The kernel's main table through `ip`, routes marked with ROUTE_PROTOCOL. */
export const kernelRoutes: RouteTable = {
  async list() {
    const { stdout } = await run('ip', ['-j', 'route', 'show', 'proto', ROUTE_PROTOCOL]);
    return (JSON.parse(stdout || '[]') as { dst: string; gateway?: string }[]).map((r) => ({ dst: r.dst, via: r.gateway ?? '' }));
  },
  async replace(r) {
    await run('ip', ['route', 'replace', r.dst, 'via', r.via, 'proto', ROUTE_PROTOCOL]);
  },
  async remove(r) {
    await run('ip', ['route', 'del', r.dst, 'proto', ROUTE_PROTOCOL]);
  },
};

/** Removes every route the agent made (cleanup, uninstall). */
export async function flushNodeRoutes(): Promise<void> {
  await run('ip', ['route', 'flush', 'proto', ROUTE_PROTOCOL]);
}

/**
 * Node-to-node pod networking, host-gw style: from every Node's
 * spec.podCIDR and InternalIP the agent keeps a route to each other node's
 * pods through that node, added and removed as nodes come, change and go,
 * and checked against the kernel's table every minute. A route the kernel
 * refuses (a node not on this link) is logged once, until it changes.
 */
export class NodeRoutes {
  #nodes: Informer<Node>;
  #self: string;
  #table: RouteTable;
  #log: Logger;
  #dirty = true;
  #wake: (() => void) | undefined;
  /** routes that failed, by destination, with the error: each logged once */
  #failed = new Map<string, string>();
  #retry: NodeJS.Timeout | undefined;

  #desired: (nodes: readonly Node[], self: string) => NodeRoute[];

  /** `desired`: which routes the Nodes call for (host-gw's by default; vxlanRoutes with the VXLAN table) */
  constructor(o: {
    nodes: Informer<Node>;
    nodeName: string;
    table?: RouteTable;
    desired?: (nodes: readonly Node[], self: string) => NodeRoute[];
    log: Logger;
  }) {
    this.#nodes = o.nodes;
    this.#self = o.nodeName;
    this.#table = o.table ?? kernelRoutes;
    this.#desired = o.desired ?? desiredRoutes;
    this.#log = o.log.child({ component: 'node-routes' });
    const changed = () => {
      this.#dirty = true;
      this.#wake?.();
    };
    this.#nodes.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.#nodes.hasSynced();
    void every(
      RESYNC_MS,
      signal,
      async () => {
        this.#dirty = true;
        this.#wake?.();
      },
      () => undefined,
    );
    while (!signal.aborted) {
      if (!this.#dirty) {
        await waitForWake(signal, (wake) => {
          this.#wake = wake;
        });
        this.#wake = undefined;
        continue;
      }
      this.#dirty = false;
      await this.sync().catch((err: Error) => {
        this.#log.warn({ err: err.message }, 'reading the routing table failed');
        this.#retrySoon();
      });
    }
  }

  /** One pass: the kernel's routes made to match the Nodes. */
  async sync(): Promise<void> {
    const { replace, remove } = routeChanges(await this.#table.list(), this.#desired(this.#nodes.list(), this.#self));
    for (const r of remove) await this.#apply('remove', r);
    for (const r of replace) await this.#apply('replace', r);
  }

  /** Another pass in a few seconds, not at once: a route the kernel refuses is not retried in a loop. */
  #retrySoon(): void {
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#dirty = true;
      this.#wake?.();
    }, RETRY_MS);
    this.#retry.unref();
  }

  async #apply(action: 'replace' | 'remove', r: NodeRoute): Promise<void> {
    try {
      await this.#table[action](r);
      if (this.#failed.delete(r.dst)) this.#log.info({ route: r }, 'node route set after failing');
      else this.#log.info({ route: r, action }, 'node route');
    } catch (err) {
      const message = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
      if (this.#failed.get(r.dst) !== message) this.#log.warn({ route: r, action, err: message }, 'node route refused by the kernel; will retry');
      this.#failed.set(r.dst, message);
      this.#retrySoon();
    }
  }
}
