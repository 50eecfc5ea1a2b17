export { NodeRoutes, ROUTE_PROTOCOL, desiredRoutes, flushNodeRoutes, kernelRoutes, routeChanges } from './node-routes.ts';
export type { NodeRoute, RouteTable } from './node-routes.ts';
export { VTEP_MAC_ANNOTATION, VXLAN_DEVICE, ensureVxlanDevice, removeVxlanDevice, tunnelAddress, vxlanRoutes, vxlanTable } from './vxlan.ts';
