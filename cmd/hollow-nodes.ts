import { parseArgs } from 'node:util';
import { RestClient, createRootLogger, loadKubeconfig } from '../apimachinery/index.ts';
import { DEFAULT_HOLLOW, HollowNodes } from '../lab/index.ts';

export const HOLLOW_USAGE = `skiff hollow-nodes: fake nodes that run pods without containers, to test and measure the control plane

  --count N            how many nodes (1)
  --kubeconfig PATH    credentials for the API server (/etc/skiff/admin.kubeconfig)
  --prefix TEXT        node names are TEXT0, TEXT1, … (hollow-)
  --cpu Q              cpu of each node (4)
  --memory Q           memory of each node (16Gi)
  --max-pods N         pods per node (110)
  --zones N            label the nodes with N zones, round robin (none)
  --lease-seconds N    Lease duration, renewed at a quarter of it (40)
  --keep               leave the Node objects when stopped (they are deleted by default)
  --log-level LEVEL    pino level (info)
`;

export async function runHollowNodes(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string', default: '1' },
      kubeconfig: { type: 'string', default: '/etc/skiff/admin.kubeconfig' },
      prefix: { type: 'string', default: DEFAULT_HOLLOW.prefix },
      cpu: { type: 'string', default: DEFAULT_HOLLOW.capacity.cpu },
      memory: { type: 'string', default: DEFAULT_HOLLOW.capacity.memory },
      'max-pods': { type: 'string', default: DEFAULT_HOLLOW.capacity.pods },
      'lease-seconds': { type: 'string', default: String(DEFAULT_HOLLOW.leaseSeconds) },
      zones: { type: 'string', default: '0' },
      keep: { type: 'boolean', default: false },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HOLLOW_USAGE);
    return;
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive whole number, not ${values.count}`);
  const log = createRootLogger({ name: 'skiff-hollow-nodes', level: values['log-level'] });
  const client = new RestClient(await loadKubeconfig(values.kubeconfig as string), { userAgent: 'skiff-hollow-nodes' });
  const nodes = new HollowNodes(
    client,
    {
      ...DEFAULT_HOLLOW,
      count,
      prefix: values.prefix as string,
      capacity: { cpu: values.cpu as string, memory: values.memory as string, pods: values['max-pods'] as string },
      leaseSeconds: Number(values['lease-seconds']),
      zones: Number(values.zones),
    },
    log,
  );
  const stop = new AbortController();
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'stopping');
    stop.abort();
    if (!values.keep) await nodes.remove();
    client.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await nodes.run(stop.signal);
}
