import { execFile } from 'node:child_process';
import { readdir, readFile, readlink, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { DEFAULT_CONFIG, PodCgroups, cleanupProxy, flushNodeRoutes, loadAgentConfig, removePolicyTable, removeVxlanDevice } from '../agent/index.ts';
import { deleteLink, detachLoopDevicesUnder, nodeJoinPaths, unmountUnder } from '../lab/index.ts';
import { HOST, removeHostPods } from './host-layout.ts';
import { UNITS } from './install.ts';

const run = promisify(execFile);
const say = (msg: string) => process.stderr.write(`skiff uninstall: ${msg}\n`);
const OUR_CONFLIST = fileURLToPath(new URL('../cni-configs/10-skiff.conflist', import.meta.url));

/** A directory and all in it; one that is a mount point of its own (a host whose /etc/skiff is a volume) is emptied and left. */
async function removeDir(dir: string): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [] as string[])) await rm(join(dir, entry), { recursive: true, force: true });
  await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EBUSY' && err.code !== 'ENOENT') throw err;
  });
}

/** Stops and disables a unit if it is there; a unit never installed is nothing to stop. */
async function stopUnit(name: string): Promise<void> {
  await run('systemctl', ['disable', '--now', name]).catch(() => undefined);
}

/**
 * skiff uninstall: the host as skiff found it. The agent stops first, then
 * every pod goes (sandboxes, containers, their network through the real CNI
 * plugins) while containerd still runs; then the server and containerd stop,
 * and their mounts, loop devices, bridge, nft table, cgroups, units and
 * files go. `--keep-data` keeps the cluster's state and PKI (/etc/skiff,
 * /var/lib/skiff) for a later install.
 */
export async function runUninstall(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'keep-data': { type: 'boolean', default: false } } });
  if (process.getuid?.() !== 0) throw new Error('must run as root');
  await stopUnit(UNITS.agent);
  const removed = await removeHostPods();
  if (removed !== null) say(`removed ${removed} pod sandbox(es)`);
  await stopUnit(UNITS.server);
  await stopUnit(UNITS.containerd);
  await unmountUnder([HOST.containerdState, HOST.containerdRoot, HOST.agentRoot, HOST.run]);
  await detachLoopDevicesUnder([HOST.csiState]);
  await deleteLink(HOST.bridge);
  // the pods' slices, below the cgroup root the agent was given
  const { config } = await loadAgentConfig(nodeJoinPaths(HOST.nodeDir).config).catch(() => ({ config: DEFAULT_CONFIG }));
  await (await PodCgroups.detect(config.cgroupRoot, { driver: 'systemd' })).removeAll();
  await cleanupProxy('skiff');
  await removePolicyTable('skiff');
  await flushNodeRoutes();
  await removeVxlanDevice();
  for (const unit of Object.values(UNITS)) await rm(join(HOST.unitDir, unit), { force: true });
  await run('systemctl', ['daemon-reload']);
  // the conflist only if it is still ours as shipped
  const conflist = join(HOST.cniConfDir, '10-skiff.conflist');
  if ((await readFile(conflist, 'utf8').catch(() => '')) === (await readFile(OUR_CONFLIST, 'utf8'))) await rm(conflist);
  const home = await readlink(HOST.home).catch(() => '');
  await rm(HOST.home, { force: true });
  if (home.startsWith('/opt/skiff/releases/')) await rm('/opt/skiff/releases', { recursive: true, force: true });
  await rm(HOST.run, { recursive: true, force: true });
  await rm(join(HOST.opt, 'cni'), { recursive: true, force: true });
  if (!values['keep-data']) for (const dir of [HOST.etc, '/var/lib/skiff', HOST.podLogs]) await removeDir(dir);
  say(values['keep-data'] ? 'done; the cluster state in /etc/skiff and /var/lib/skiff is kept' : 'done');
}
