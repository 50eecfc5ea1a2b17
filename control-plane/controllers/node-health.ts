import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';

/**
 * When this controller last saw each node show a sign of life, by its own
 * clock: the first time it sees a node, and each time the node's Ready
 * heartbeat or its Lease's renewTime moves. A node is silent once the grace
 * period has passed since then. Timestamps written by the node are compared
 * only with their own earlier values, never with our clock, so a controller
 * that starts after a long outage gives every node a full grace period
 * (as kube-controller-manager's probeTimestamp does).
 */
export class NodeHealth {
  #seen = new Map<string, { heartbeat: string; renewed: string; probedAt: number }>();

  /** Records what the node shows now; returns how long (ms) it has been silent by our clock. */
  observe(node: Node, lease: Lease | undefined, now: number): number {
    const name = node.metadata?.name ?? '';
    const heartbeat = node.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime ?? '';
    const renewed = lease?.spec?.renewTime ?? '';
    const last = this.#seen.get(name);
    if (!last || last.heartbeat !== heartbeat || last.renewed !== renewed) {
      this.#seen.set(name, { heartbeat, renewed, probedAt: now });
      return 0;
    }
    return now - last.probedAt;
  }

  /** Forgets nodes that are gone. */
  retain(names: Set<string>): void {
    for (const name of this.#seen.keys()) if (!names.has(name)) this.#seen.delete(name);
  }
}
