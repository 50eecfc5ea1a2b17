import type { Node } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { Informer, silentLogger, type RestClient } from '../../apimachinery/index.ts';
import { NodeRoutes, desiredRoutes, routeChanges, type NodeRoute, type RouteTable } from './node-routes.ts';
import { VTEP_MAC_ANNOTATION, tunnelAddress, vxlanRoutes } from './vxlan.ts';

const node = (name: string, podCIDR?: string, ip?: string): Node => ({
  metadata: { name },
  spec: podCIDR ? { podCIDR } : {},
  status: ip
    ? {
        addresses: [
          { type: 'Hostname', address: name },
          { type: 'InternalIP', address: ip },
        ],
      }
    : {},
});

/** A routing table in memory that refuses gateways off its link (10.0.0.0/24), as the kernel would. */
function fakeTable(initial: NodeRoute[] = []): RouteTable & { routes: Map<string, string> } {
  const routes = new Map(initial.map((r) => [r.dst, r.via]));
  return {
    routes,
    list: async () => [...routes].map(([dst, via]) => ({ dst, via })),
    replace: async (r) => {
      if (!r.via.startsWith('10.0.0.')) throw Object.assign(new Error('exit 2'), { stderr: 'Error: Nexthop has invalid gateway.' });
      routes.set(r.dst, r.via);
    },
    remove: async (r) => void routes.delete(r.dst),
  };
}

describe('node routes (host-gw)', () => {
  it("routes each other node's pod CIDR through its InternalIP, skipping itself and nodes that lack either", () => {
    const nodes = [
      node('a', '10.244.0.0/24', '10.0.0.1'),
      node('b', '10.244.1.0/24', '10.0.0.2'),
      node('c', '10.244.2.0/24'),
      node('d', undefined, '10.0.0.4'),
    ];
    expect(desiredRoutes(nodes, 'a')).toEqual([{ dst: '10.244.1.0/24', via: '10.0.0.2' }]);
  });

  it('changes only what differs: a moved node is replaced, a gone one removed, the rest left', () => {
    const current = [
      { dst: '10.244.1.0/24', via: '10.0.0.2' },
      { dst: '10.244.2.0/24', via: '10.0.0.3' },
      { dst: '10.244.9.0/24', via: '10.0.0.9' },
    ];
    const wanted = [
      { dst: '10.244.1.0/24', via: '10.0.0.2' },
      { dst: '10.244.2.0/24', via: '10.0.0.33' },
      { dst: '10.244.3.0/24', via: '10.0.0.4' },
    ];
    expect(routeChanges(current, wanted)).toEqual({
      replace: [
        { dst: '10.244.2.0/24', via: '10.0.0.33' },
        { dst: '10.244.3.0/24', via: '10.0.0.4' },
      ],
      remove: [{ dst: '10.244.9.0/24', via: '10.0.0.9' }],
    });
  });

  it('makes the table match the Nodes in one pass, and keeps going past a route the kernel refuses', async () => {
    const informer = new Informer<Node>({} as RestClient, { resource: 'nodes' }, { log: silentLogger });
    for (const n of [node('a', '10.244.0.0/24', '10.0.0.1'), node('b', '10.244.1.0/24', '10.0.0.2'), node('far', '10.244.5.0/24', '192.0.2.5')])
      informer.store.set(n.metadata?.name ?? '', n);
    const table = fakeTable([{ dst: '10.244.7.0/24', via: '10.0.0.7' }]);
    await new NodeRoutes({ nodes: informer, nodeName: 'a', table, log: silentLogger }).sync();
    expect([...table.routes]).toEqual([['10.244.1.0/24', '10.0.0.2']]);
  });
});

describe('node routes (vxlan)', () => {
  it("peers with each other node that has a pod CIDR, an InternalIP and a published VXLAN MAC; its gateway is the CIDR's first address", () => {
    const withMac = (n: Node, mac: string): Node => ({ ...n, metadata: { ...n.metadata, annotations: { [VTEP_MAC_ANNOTATION]: mac } } });
    const nodes = [
      withMac(node('a', '10.244.0.0/24', '10.0.0.1'), '02:00:00:00:00:01'),
      withMac(node('b', '10.244.1.0/24', '192.0.2.2'), '02:00:00:00:00:02'),
      node('c', '10.244.2.0/24', '10.0.0.3'),
    ];
    expect(vxlanRoutes(nodes, 'a')).toEqual([{ dst: '10.244.1.0/24', via: '192.0.2.2', mac: '02:00:00:00:00:02' }]);
    expect(tunnelAddress('10.244.1.0/24')).toBe('10.244.1.0');
    // a peer whose MAC changed (its agent made the device again) is written again
    expect(routeChanges([{ dst: '10.244.1.0/24', via: '192.0.2.2', mac: '02:00:00:00:00:09' }], vxlanRoutes(nodes, 'a')).replace).toHaveLength(1);
  });
});
