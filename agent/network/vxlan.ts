import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Node } from 'kubernetes-types/core/v1.js';
import { ROUTE_PROTOCOL, peerRoutes, type NodeRoute, type RouteTable } from './node-routes.ts';

const run = promisify(execFile);

/** The VXLAN device, its VNI and UDP port (flannel's, so a firewall opened for k3s fits). */
export const VXLAN_DEVICE = 'skiff.1';
const VNI = '1';
const PORT = '8472';
/** Where each node publishes its VXLAN device's MAC, for the others' forwarding entries. */
export const VTEP_MAC_ANNOTATION = 'skiff.dev/vxlan-vtep-mac';
/** VXLAN's own headers take 50 bytes of the link's MTU. */
const OVERHEAD = 50;

/** A pod CIDR's first address: each node's end of the VXLAN, the gateway to its pods. */
export function tunnelAddress(podCIDR: string): string {
  return podCIDR.split('/')[0] as string;
}

/** The VXLAN peers a node needs: every other node with a pod CIDR, an InternalIP and a published MAC. */
export function vxlanRoutes(nodes: readonly Node[], self: string): NodeRoute[] {
  return peerRoutes(nodes, self).flatMap(({ node, route }) => {
    const mac = node.metadata?.annotations?.[VTEP_MAC_ANNOTATION];
    return mac ? [{ ...route, mac }] : [];
  });
}

/**
 * The VXLAN device of this node, made if missing: its end is the first
 * address of the node's pod CIDR, it sends from the node's address on the
 * link that holds it, learns nothing (the agent writes every peer). Returns
 * its MAC.
 */
export async function ensureVxlanDevice(o: { nodeIP: string; podCIDR: string }): Promise<string> {
  const show = async () => (JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', VXLAN_DEVICE])).stdout) as { address: string }[])[0]?.address;
  const existing = await show().catch(() => undefined);
  if (existing) return existing;
  const links = JSON.parse((await run('ip', ['-j', '-4', 'addr', 'show'])).stdout) as { ifname: string; mtu: number; addr_info: { local: string }[] }[];
  const uplink = links.find((l) => l.addr_info.some((a) => a.local === o.nodeIP));
  if (!uplink) throw new Error(`no link holds the node's address ${o.nodeIP}`);
  await run('ip', ['link', 'add', VXLAN_DEVICE, 'type', 'vxlan', 'id', VNI, 'local', o.nodeIP, 'dev', uplink.ifname, 'dstport', PORT, 'nolearning']);
  await run('ip', ['link', 'set', VXLAN_DEVICE, 'mtu', String(uplink.mtu - OVERHEAD)]);
  await run('ip', ['addr', 'add', `${tunnelAddress(o.podCIDR)}/32`, 'dev', VXLAN_DEVICE]);
  await run('ip', ['link', 'set', VXLAN_DEVICE, 'up']);
  return (await show()) as string;
}

/** Removes the VXLAN device (with it go its neighbours, forwarding entries and routes). */
export async function removeVxlanDevice(): Promise<void> {
  await run('ip', ['link', 'del', VXLAN_DEVICE]).catch((err: { stderr?: string }) => {
    if (!err.stderr?.includes('Cannot find device')) throw err;
  });
}

/**
 * Peers through the VXLAN device, as flannel's vxlan backend writes them:
 * the peer's tunnel address resolves to its MAC (a permanent neighbour), its
 * MAC forwards to its node address (a forwarding entry), and its pod CIDR
 * routes through its tunnel address. What was written is remembered, since
 * a route alone does not say which node it leads to.
 */
export function vxlanTable(): RouteTable {
  const written = new Map<string, NodeRoute>();
  return {
    async list() {
      const routes = JSON.parse((await run('ip', ['-j', 'route', 'show', 'proto', ROUTE_PROTOCOL, 'dev', VXLAN_DEVICE])).stdout || '[]') as { dst: string }[];
      return routes.map((r) => written.get(r.dst) ?? { dst: r.dst, via: '' });
    },
    async replace(r) {
      const gateway = tunnelAddress(r.dst);
      await run('ip', ['neigh', 'replace', gateway, 'lladdr', r.mac as string, 'dev', VXLAN_DEVICE, 'nud', 'permanent']);
      await run('bridge', ['fdb', 'replace', r.mac as string, 'dev', VXLAN_DEVICE, 'dst', r.via, 'self', 'permanent']);
      await run('ip', ['route', 'replace', r.dst, 'via', gateway, 'dev', VXLAN_DEVICE, 'onlink', 'proto', ROUTE_PROTOCOL]);
      written.set(r.dst, r);
    },
    async remove(r) {
      await run('ip', ['route', 'del', r.dst, 'proto', ROUTE_PROTOCOL]);
      const old = written.get(r.dst);
      written.delete(r.dst);
      // the neighbour and forwarding entry of a peer whose route is gone: best effort, the device's reset clears them
      if (old?.mac) {
        await run('ip', ['neigh', 'del', tunnelAddress(r.dst), 'dev', VXLAN_DEVICE]).catch(() => undefined);
        await run('bridge', ['fdb', 'del', old.mac, 'dev', VXLAN_DEVICE, 'dst', old.via, 'self']).catch(() => undefined);
      }
    },
  };
}
