import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { deleteLink, detachLoopDevicesUnder, stopDaemon, unmountUnder } from '../lab/index.ts';
import { PodCgroups, bootedWithSystemd, cleanupProxy, removePolicyTable } from '../agent/index.ts';
import { HOST, removeHostPods } from './host-layout.ts';

function say(msg: string): void {
  process.stderr.write(`skiff down: ${msg}\n`);
}

/**
 * skiff down: stops the agent and server, removes every pod (sandboxes,
 * containers, their network through the real CNI plugins), stops containerd
 * and the registry, and removes mounts, the bridge and the volumes' loop
 * devices left behind (the volumes' data stays).
 */
export async function runDown(_argv: string[]): Promise<void> {
  if (await stopDaemon(join(HOST.run, 'agent.pid'))) say('stopped the agent');
  if (await stopDaemon(join(HOST.run, 'server.pid'))) say('stopped the server');
  for (const name of ['agent', 'server']) await rm(join(HOST.run, `${name}.state.json`), { force: true });
  const removed = await removeHostPods();
  if (removed !== null) say(`removed ${removed} pod sandbox(es)`);
  if (await stopDaemon(join(HOST.run, 'containerd.pid'), 20_000)) say('stopped containerd');
  await unmountUnder([HOST.containerdState, HOST.containerdRoot, HOST.agentRoot]);
  // persistent volumes keep their data in the CSI state directory; only their loop devices go
  const detached = await detachLoopDevicesUnder([HOST.csiState]);
  if (detached) say(`detached ${detached} volume loop device(s)`);
  await deleteLink(HOST.bridge);
  // the pods' slices where `up` chose the systemd driver, then any directories (the cgroupfs driver's, or what runtimes left)
  if (await bootedWithSystemd()) await (await PodCgroups.detect('/', { driver: 'systemd' })).removeAll();
  await (await PodCgroups.detect('/')).removeAll();
  await cleanupProxy('skiff');
  await removePolicyTable('skiff');
  say('removed the Service proxy table');
  await rm(join(HOST.agentRoot, 'cni-results'), { recursive: true, force: true });
  if (await stopDaemon(HOST.registryPid)) say('stopped the registry');
  say('done');
}
