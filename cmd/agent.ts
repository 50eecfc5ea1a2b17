import { parseArgs } from 'node:util';
import { CONFIG_FILE_ENV, withConfigFile } from './config-file.ts';
import { AGENT_OPTIONS, SERVER_OPTIONS } from './options.ts';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createRootLogger, notifyReady } from '../apimachinery/index.ts';
import {
  Agent,
  CertificateStore,
  bootstrapClientCredentials,
  cleanupProxy,
  flushNodeRoutes,
  loadAgentConfig,
  pluginRegistryDir,
  pluginSocket,
  removePolicyTable,
  removeVxlanDevice,
} from '../agent/index.ts';
import { DRIVER_NAME, serveBundledDriver } from '../csi/index.ts';

export const AGENT_USAGE = `skiff agent: the node agent

  --config PATH              KubeletConfiguration (kubelet.config.k8s.io/v1beta1) YAML
  --kubeconfig PATH          credentials for the API server (/etc/skiff/agent.kubeconfig)
  --bootstrap-kubeconfig PATH  a join token's kubeconfig: when --kubeconfig is missing or expired, a client
                             certificate is requested with it (TLS bootstrap) and --kubeconfig written
  --cert-dir DIR             where certificates from the cluster are kept (ROOT-DIR/pki)
  --node-name NAME           the Node's name (hostname)
  --node-ip ADDR             the Node's InternalIP (first non-loopback IPv4)
  --cni-conf-dir DIR         the node's CNI network configs (/etc/cni/net.d)
  --cni-bin-dir DIRS         CNI plugin binaries, comma-separated (/usr/lib/cni)
  --cni-delegate-socket PATH where containerd's delegate plugin reaches the agent (/run/skiff/cni.sock)
  --root-dir DIR             agent state (/var/lib/skiff/agent)
  --proxy-table NAME         the nftables table of the Service proxy (skiff)
  --cluster-cidr CIDR        the cluster's pod network; Service traffic from outside it is masqueraded (10.244.0.0/16)
  --flannel-backend MODE     how pods reach other nodes' pods (k3s's flag): host-gw (the agent keeps a route to
                             each node's pod CIDR through its InternalIP; nodes share a link), vxlan (through a
                             VXLAN device, UDP 8472; nodes need only reach each other) or none (none)
  --csi-state-dir DIR        serve the bundled CSI driver (${DRIVER_NAME}: loop and dir volumes, kept under DIR) from
                             the agent's own process, announced in its plugin registry as any node plugin is;
                             unset: not served (run \`skiff csi-driver\` or another driver)
  --no-proxy                 do not run the Service proxy
  --cleanup                  remove the Service proxy's nftables table and the node routes, and exit
  --log-level LEVEL          pino level (info)
`;

function nodeRoutesMode(backend: string): 'host-gw' | 'vxlan' | 'none' {
  if (backend === 'host-gw' || backend === 'vxlan' || backend === 'none') return backend;
  throw new Error(`--flannel-backend ${backend}: skiff's agent routes host-gw, vxlan or none (wireguard-native is not supported yet)`);
}

export async function runAgent(argv: string[]): Promise<void> {
  const { args, unknown } = withConfigFile(argv, AGENT_OPTIONS, SERVER_OPTIONS);
  const { values } = parseArgs({ args, allowNegative: true, options: AGENT_OPTIONS });
  if (values.help) {
    process.stdout.write(AGENT_USAGE);
    return;
  }
  if (values.cleanup) {
    await cleanupProxy(values['proxy-table'] as string);
    await removePolicyTable(values['proxy-table'] as string);
    await flushNodeRoutes();
    await removeVxlanDevice();
    process.stdout.write(`removed nftables table ip ${values['proxy-table']}\n`);
    return;
  }
  const nodeRoutes = nodeRoutesMode(values['flannel-backend'] as string);
  const nodeName = (values['node-name'] ?? hostname()).toLowerCase();
  const log = createRootLogger({ name: 'skiff-agent', level: values['log-level'] }).child({ node: nodeName });
  for (const key of unknown) log.warn({ key, file: process.env[CONFIG_FILE_ENV] }, 'config file: no skiff command takes this flag; ignored');
  const { config, warnings } = await loadAgentConfig(values.config);
  for (const w of warnings) log.warn({ field: w.field }, `agent config: ${w.message}`);
  if (!config.serverTLSBootstrap && (!config.tlsCertFile || !config.tlsPrivateKeyFile)) {
    throw new Error('the agent config must set tlsCertFile and tlsPrivateKeyFile for the kubelet API, or serverTLSBootstrap: true');
  }
  const rootDir = values['root-dir'] as string;
  const certDir = values['cert-dir'] ?? join(rootDir, 'pki');
  const apiServer = await bootstrapClientCredentials({
    kubeconfig: values.kubeconfig as string,
    bootstrapKubeconfig: values['bootstrap-kubeconfig'],
    store: new CertificateStore(certDir, 'kubelet-client'),
    nodeName,
    log,
    // until the agent runs, SIGTERM ends the process as it is: nothing is half done that a restart would not redo
    signal: new AbortController().signal,
  });
  // the bundled driver serves before the agent starts, so its first look at the plugin registry finds it
  const csiDriver = values['csi-state-dir']
    ? await serveBundledDriver({
        endpoint: pluginSocket(rootDir, DRIVER_NAME),
        stateDir: values['csi-state-dir'],
        nodeId: nodeName,
        registryDir: pluginRegistryDir(rootDir),
        log: log.child({ component: 'csi-driver' }),
      })
    : undefined;
  const agent = new Agent({
    nodeName,
    nodeIP: values['node-ip'],
    config,
    apiServer,
    servingTls: {
      cert: config.tlsCertFile ? await readFile(config.tlsCertFile, 'utf8') : undefined,
      key: config.tlsPrivateKeyFile ? await readFile(config.tlsPrivateKeyFile, 'utf8') : undefined,
      // no client CA named: the cluster's, which the API server's own CA is
      clientCA: config.clientCAFile ? await readFile(config.clientCAFile, 'utf8') : apiServer.ca,
    },
    certDir,
    cniConfDir: values['cni-conf-dir'] as string,
    cniBinDirs: (values['cni-bin-dir'] as string).split(','),
    cniDelegateSocket: values['cni-delegate-socket'] as string,
    rootDir,
    nodeRoutes,
    proxy: values.proxy ? { table: values['proxy-table'] as string, clusterCidr: values['cluster-cidr'] as string } : undefined,
    log,
  });
  await agent.start();
  const shutdown = async (signal: string) => {
    // pods keep running: a restarted agent adopts them from the runtime
    log.info({ signal }, 'agent stopping; pods keep running');
    await agent.stop();
    csiDriver?.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await notifyReady(`node ${nodeName} registered`);
}
