import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { createRootLogger } from '../apimachinery/index.ts';
import { CsiDriver, DRIVER_NAME, serveRegistration } from '../csi/index.ts';

export const CSI_DRIVER_USAGE = `skiff csi-driver: the bundled CSI driver (loop and dir volumes on this node)

  --endpoint PATH        the CSI socket (/var/lib/skiff/agent/plugins/${DRIVER_NAME}/csi.sock)
  --state-dir DIR        volume files and records (/var/lib/skiff/csi)
  --node-id ID           this node's name, as the agent registers it (hostname)
  --registry-dir DIR     the agent's plugin registry, where the driver announces itself (/var/lib/skiff/agent/plugins_registry);
                         empty: do not register
  --driver-name NAME     the driver's name (${DRIVER_NAME})
  --log-level LEVEL      pino level (info)
`;

export async function runCsiDriver(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      endpoint: { type: 'string', default: `/var/lib/skiff/agent/plugins/${DRIVER_NAME}/csi.sock` },
      'state-dir': { type: 'string', default: '/var/lib/skiff/csi' },
      'node-id': { type: 'string' },
      'registry-dir': { type: 'string', default: '/var/lib/skiff/agent/plugins_registry' },
      'driver-name': { type: 'string', default: DRIVER_NAME },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(CSI_DRIVER_USAGE);
    return;
  }
  const nodeId = (values['node-id'] ?? hostname()).toLowerCase();
  const log = createRootLogger({ name: 'skiff-csi', level: values['log-level'] }).child({ node: nodeId });
  const endpoint = values.endpoint as string;
  const driver = new CsiDriver({ name: values['driver-name'], nodeId, stateDir: values['state-dir'] as string, log });
  const servers = [await driver.serve(endpoint)];
  if (values['registry-dir']) servers.push((await serveRegistration({ registryDir: values['registry-dir'], driverName: driver.name, endpoint, log })).server);
  log.info({ endpoint, driver: driver.name }, 'CSI driver serving');
  const shutdown = (signal: string) => {
    // volumes stay staged and published: a restarted driver finds them by their mounts
    log.info({ signal }, 'CSI driver stopping');
    for (const s of servers) s.forceShutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
