import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import YAML from 'yaml';
import { CONTROL_PLANE_CERTS_SECRET, RestClient, discoverCluster, hostIPv4, loadKubeconfig, pathExists } from '../apimachinery/index.ts';
import { openSharedPki, writeSharedPki } from './control-plane-certs.ts';
import {
  SIGNER_TAKEOVER_MS,
  containerdLayout,
  createJoinToken,
  installStorageDefaults,
  nodeJoinPaths,
  prepareContainerd,
  writeNodeJoin,
} from '../lab/index.ts';
import { HOST } from './host-layout.ts';
import { SERVER_OPTIONS } from './options.ts';

const run = promisify(execFile);

export { UNITS };

export const INSTALL_USAGE = `skiff install: skiff on this host as systemd services

  skiff install server [--node-name N] [--node-ip ADDR] [--registry HOST:PORT] [--cgroup-root SLICE] [-- SERVER FLAGS]
      containerd, the server and this host's own agent (serving the bundled CSI driver, whose StorageClass
      is the default); prints nothing secret (join tokens: skiff token create)
  skiff install server --server URL --token TOKEN --ca-cert-hash sha256:HEX --certificate-key KEY -- --datastore-endpoint etcd://…
      a second server of the cluster, sharing its etcd (skiff token create --control-plane prints this)
  skiff install agent --server URL --token TOKEN --ca-cert-hash sha256:HEX [--node-name N] [--node-ip ADDR]
      containerd and the agent, joined to the cluster at URL with a join token
  skiff uninstall [--keep-data]
      stops and removes the units, every pod, and what skiff made on this host

Run again with a newer release to upgrade in place: running pods keep running.
Settings live in ${HOST.configFile} (flag names as keys); SERVER FLAGS after -- go there.
`;

/** Where a release lives on a host: releases side by side, `current` the one the units run. */
const RELEASES = '/opt/skiff/releases';
const UNITS = { containerd: 'skiff-containerd.service', server: 'skiff-server.service', agent: 'skiff-agent.service' } as const;
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What must be on the host, and the Debian package that brings it. */
const NEEDS: Record<string, string> = {
  '/usr/bin/containerd': 'containerd',
  '/usr/sbin/runc': 'runc',
  '/usr/sbin/nft': 'nftables',
  '/usr/lib/cni/bridge': 'containernetworking-plugins',
  '/usr/bin/systemd-notify': 'systemd',
};

const say = (msg: string) => process.stderr.write(`skiff install: ${msg}\n`);
const systemctl = (...args: string[]) => run('systemctl', args);

/** Refuses a host skiff cannot run on, saying what is missing. */
async function checkHost(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('must run as root');
  if (!(await pathExists('/run/systemd/system'))) throw new Error('needs systemd as the init system (no /run/systemd/system)');
  const missing = [];
  for (const [path, pkg] of Object.entries(NEEDS)) if (!(await pathExists(path))) missing.push(pkg);
  if (missing.length) throw new Error(`missing Debian packages: apt-get install ${[...new Set(missing)].join(' ')}`);
}

/**
 * Puts this release where the units run it: a release tarball is copied to
 * /opt/skiff/releases/<version>, a checkout is used where it is; `current`
 * then points at it. Returns whether `current` moved (an upgrade).
 */
async function placeRelease(): Promise<boolean> {
  const version = (await readFile(join(PACKAGE_ROOT, 'RELEASE'), 'utf8').catch(() => '')).trim();
  let target = PACKAGE_ROOT.replace(/\/$/, '');
  if (version) {
    target = join(RELEASES, version);
    if (PACKAGE_ROOT.replace(/\/$/, '') !== target && !(await pathExists(join(target, 'RELEASE')))) {
      await rm(`${target}.new`, { recursive: true, force: true });
      await mkdir(RELEASES, { recursive: true });
      await cp(PACKAGE_ROOT, `${target}.new`, { recursive: true, verbatimSymlinks: true });
      await rename(`${target}.new`, target);
    }
  }
  const before = await readlink(HOST.home).catch(() => '');
  if (before === target) return false;
  await mkdir(dirname(HOST.home), { recursive: true });
  await rm(`${HOST.home}.new`, { force: true });
  await symlink(target, `${HOST.home}.new`);
  await rename(`${HOST.home}.new`, HOST.home);
  say(`skiff ${version || 'from a checkout'} at ${target}`);
  return before !== '';
}

/** The unit files, from the release's systemd/ folder; returns whether any changed. */
async function writeUnits(names: string[]): Promise<boolean> {
  let changed = false;
  for (const name of names) {
    const text = (await readFile(join(PACKAGE_ROOT, 'systemd', name), 'utf8')).replaceAll('@SKIFF_HOME@', HOST.home);
    const path = join(HOST.unitDir, name);
    if ((await readFile(path, 'utf8').catch(() => '')) === text) continue;
    await writeFile(path, text);
    changed = true;
  }
  if (changed) await systemctl('daemon-reload');
  return changed;
}

/** Flags as config.yaml keys: `--secure-port 7443 --no-leader-elect` → {secure-port: '7443', leader-elect: false}; refuses flags the server has not. */
function serverSettings(flags: string[]): Record<string, unknown> {
  const { tokens } = parseArgs({ args: flags, options: SERVER_OPTIONS, allowNegative: true, tokens: true, strict: true });
  const out: Record<string, unknown> = {};
  for (const t of tokens ?? []) {
    if (t.kind !== 'option') continue;
    const negated = t.rawName.startsWith('--no-');
    out[t.name] = SERVER_OPTIONS[t.name as keyof typeof SERVER_OPTIONS].type === 'boolean' ? !negated : t.value;
  }
  return out;
}

/** config.yaml with `settings` laid over what it held (a rerun keeps what an operator set). */
async function writeConfig(settings: Record<string, unknown>): Promise<boolean> {
  const old = await readFile(HOST.configFile, 'utf8').catch(() => '');
  const merged = { ...((YAML.parse(old) as Record<string, unknown> | null) ?? {}), ...settings };
  const text = YAML.stringify(merged);
  if (text === old) return false;
  await mkdir(HOST.etc, { recursive: true });
  await writeFile(HOST.configFile, text, { mode: 0o600 });
  return true;
}

/** containerd's config (registry mirror, our CNI delegate, the systemd cgroup driver), written once. */
async function writeContainerdConfig(registry: string): Promise<void> {
  if (await pathExists(join(HOST.containerdBase, 'config.toml'))) return;
  await prepareContainerd({
    ...containerdLayout(HOST.containerdBase, { registry, delegateSocket: HOST.delegateSocket, state: HOST.containerdState, systemdCgroup: true }),
    configDir: HOST.containerdBase,
    root: HOST.containerdRoot,
    cniBinDir: join(HOST.opt, 'cni', 'bin'),
  });
  await mkdir(HOST.cniConfDir, { recursive: true });
  const ours = join(HOST.cniConfDir, '10-skiff.conflist');
  if (!(await pathExists(ours))) await cp(join(PACKAGE_ROOT, 'cni-configs', '10-skiff.conflist'), ours);
}

/** Starts (or, after an upgrade, restarts) units and enables them at boot; a notify unit's start returns once it is ready. */
async function startUnits(names: string[], restart: boolean): Promise<void> {
  for (const name of names) {
    await systemctl('enable', name);
    await systemctl(restart ? 'restart' : 'start', name).catch(async (err: Error) => {
      const { stdout } = await systemctl('status', '--no-pager', '--lines=5', name).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      throw new Error(`${name} did not start: ${err.message.split('\n')[0]}\n${stdout}`);
    });
  }
}

/**
 * What a server joining a cluster takes from it (kubeadm join --control-plane):
 * discovery with the token and CA pin, then the sealed CA and service-account
 * keys, opened with the certificate key. It shares the cluster's etcd.
 */
async function fetchSharedPki(o: {
  server?: string;
  token?: string;
  'ca-cert-hash'?: string;
  'certificate-key'?: string;
  serverFlags: Record<string, unknown>;
}): Promise<Record<string, Buffer>> {
  if (!o.token || !o['ca-cert-hash'] || !o['certificate-key'])
    throw new Error('a server joins with --server, --token, --ca-cert-hash and --certificate-key (skiff token create --control-plane prints them)');
  if (!String(o.serverFlags['datastore-endpoint'] ?? '').startsWith('etcd://'))
    throw new Error("a second server shares the cluster's etcd: pass -- --datastore-endpoint etcd://HOST:PORT[,…]");
  const cluster = await discoverCluster({ server: o.server as string, token: o.token, caCertHashes: [o['ca-cert-hash']] });
  const client = new RestClient({ ...cluster, token: o.token }, { userAgent: 'skiff-install' });
  try {
    const secret = await client
      .get<{ data?: Record<string, string> }>({ resource: 'secrets', namespace: 'kube-system', name: CONTROL_PLANE_CERTS_SECRET })
      .catch((err: Error) => {
        throw new Error(`cannot read the cluster's certificates (skiff token create --control-plane uploads them): ${err.message}`);
      });
    return openSharedPki(secret.data ?? {}, o['certificate-key']);
  } finally {
    client.close();
  }
}

/** The joined cluster's CA and keys in this host's PKI directory; a host holding another cluster's CA is refused. */
async function writeJoinedPki(pkiDir: string, files: Record<string, Buffer>): Promise<void> {
  const held = await readFile(join(pkiDir, 'ca.crt'), 'utf8').catch(() => undefined);
  if (held !== undefined && held !== files['ca.crt']?.toString()) throw new Error(`${pkiDir} holds another cluster's CA: uninstall first`);
  await mkdir(pkiDir, { recursive: true, mode: 0o700 });
  await writeSharedPki(pkiDir, files);
}

export async function runInstall(argv: string[]): Promise<void> {
  const dash = argv.indexOf('--');
  const { values, positionals } = parseArgs({
    args: dash < 0 ? argv : argv.slice(0, dash),
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      'ca-cert-hash': { type: 'string' },
      'node-name': { type: 'string' },
      'node-ip': { type: 'string' },
      registry: { type: 'string', default: HOST.registry },
      'cgroup-root': { type: 'string' },
      'certificate-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const role = positionals[0];
  if (values.help || (role !== 'server' && role !== 'agent')) {
    process.stdout.write(INSTALL_USAGE);
    if (!values.help) throw new Error('say what to install: server or agent');
    return;
  }
  await checkHost();
  const joinPaths = nodeJoinPaths(HOST.nodeDir);
  const joined = await pathExists(joinPaths.kubeconfig);
  // an agent's join is checked before anything is written: a wrong token or pin leaves the host as it was
  let cluster: { server: string; ca: string } | undefined;
  if (role === 'agent' && (values.token || !joined)) {
    if (!values.server || !values.token || !values['ca-cert-hash'])
      throw new Error('an agent joins with --server, --token and --ca-cert-hash (skiff token create prints them)');
    cluster = await discoverCluster({ server: values.server, token: values.token, caCertHashes: [values['ca-cert-hash']] });
  }
  const serverFlags = role === 'server' ? serverSettings(dash < 0 ? [] : argv.slice(dash + 1)) : {};
  // a second server: the cluster's CA and keys, fetched and opened before anything is written
  const sharedPki = role === 'server' && values.server ? await fetchSharedPki({ ...values, serverFlags }) : undefined;
  const nodeName = (values['node-name'] ?? hostname()).toLowerCase();
  if (sharedPki) await writeJoinedPki(String(serverFlags['pki-dir'] ?? SERVER_OPTIONS['pki-dir'].default), sharedPki);
  const upgraded = await placeRelease();
  const agentSettings = {
    config: joinPaths.config,
    kubeconfig: joinPaths.kubeconfig,
    'bootstrap-kubeconfig': joinPaths.bootstrapKubeconfig,
    'node-name': nodeName,
    'flannel-backend': 'host-gw',
    'csi-state-dir': HOST.csiState,
    ...(values['node-ip'] ? { 'node-ip': values['node-ip'] } : {}),
  };
  const configChanged = await writeConfig({ ...serverFlags, ...agentSettings });
  await writeContainerdConfig(values.registry as string);
  const unitsChanged = await writeUnits(role === 'server' ? Object.values(UNITS) : [UNITS.containerd, UNITS.agent]);
  const restart = upgraded || configChanged || unitsChanged;
  await startUnits([UNITS.containerd], false);
  const joinFiles = {
    dir: HOST.nodeDir,
    containerRuntimeEndpoint: `unix://${join(HOST.containerdState, 'containerd.sock')}`,
    clusterDNS: ['10.96.0.10'],
    podLogsDir: HOST.podLogs,
    cgroupDriver: 'systemd' as const,
    ...(values['cgroup-root'] ? { cgroupRoot: values['cgroup-root'] } : {}),
  };
  if (role === 'server') {
    await startUnits([UNITS.server], restart);
    say('server ready');
    const adminKubeconfig = String(serverFlags['write-kubeconfig'] ?? HOST.adminKubeconfig);
    const admin = new RestClient(await loadKubeconfig(adminKubeconfig), { userAgent: 'skiff-install' });
    await installStorageDefaults(admin).finally(() => admin.close());
    if (!joined) {
      const port = String(serverFlags['secure-port'] ?? SERVER_OPTIONS['secure-port'].default);
      const { token, caCertHash } = await createJoinToken(adminKubeconfig, `joins ${nodeName}`);
      const local = await discoverCluster({ server: `https://127.0.0.1:${port}`, token, caCertHashes: [caCertHash], waitMs: SIGNER_TAKEOVER_MS });
      await writeNodeJoin(local, token, joinFiles);
    }
  } else if (cluster && values.token) {
    await writeNodeJoin(cluster, values.token, joinFiles);
  }
  await startUnits([UNITS.agent], restart);
  say(`node ${nodeName} (${values['node-ip'] ?? hostIPv4()}) joined; logs: journalctl -u ${UNITS.agent}`);
  if (role === 'server') say(`kubectl: export KUBECONFIG=${HOST.adminKubeconfig}; join hosts: skiff token create`);
}
