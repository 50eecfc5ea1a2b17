import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { createRootLogger } from '../apimachinery/index.ts';
import { DRIVER_NAME, serveBundledDriver } from '../csi/index.ts';

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
  const driver = await serveBundledDriver({
    endpoint: values.endpoint as string,
    stateDir: values['state-dir'] as string,
    nodeId,
    registryDir: values['registry-dir'] || undefined,
    driverName: values['driver-name'],
    log,
  });
  const shutdown = (signal: string) => {
    log.info({ signal }, 'CSI driver stopping');
    driver.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
