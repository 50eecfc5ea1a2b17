import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../apimachinery/index.ts';
import { CsiDriver } from './driver.ts';
import { serveRegistration } from './registrar.ts';

export interface BundledDriverOptions {
  /** the CSI socket */
  endpoint: string;
  /** volume files and their records */
  stateDir: string;
  /** this node's name, as the agent registers it */
  nodeId: string;
  /** the agent's plugin registry, where the driver announces itself; none: it does not */
  registryDir?: string;
  driverName?: string;
  log: Logger;
}

/**
 * Serves the bundled driver on its socket and announces it in the agent's
 * plugin registry, as a third-party node plugin and its registrar would;
 * `skiff csi-driver` runs it as a process, the agent in its own. Stopping
 * leaves volumes staged and published: a driver started again finds them by
 * their mounts.
 */
export async function serveBundledDriver(o: BundledDriverOptions): Promise<{ name: string; stop: () => void }> {
  const driver = new CsiDriver({ name: o.driverName, nodeId: o.nodeId, stateDir: o.stateDir, log: o.log });
  const servers: grpc.Server[] = [await driver.serve(o.endpoint)];
  if (o.registryDir) servers.push((await serveRegistration({ registryDir: o.registryDir, driverName: driver.name, endpoint: o.endpoint, log: o.log })).server);
  o.log.info({ endpoint: o.endpoint, driver: driver.name }, 'CSI driver serving');
  return {
    name: driver.name,
    stop: () => {
      for (const s of servers) s.forceShutdown();
    },
  };
}
