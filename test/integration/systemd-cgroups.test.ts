// The systemd cgroup driver against a real systemd and a real containerd whose
// runc puts containers in systemd scopes (SystemdCgroup = true): the pod's
// slice is systemd's, carries the pod's limits, holds the containers' scopes,
// and goes with the pod. This host's PID 1 is not systemd, so the test boots
// one of its own (test/harness/systemd.ts).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../apimachinery/index.ts';
import { PodSyncer, newPodMemory } from '../../agent/pods/index.ts';
import { PodCgroups, SystemdSlices } from '../../agent/stats/index.ts';
import { startTestNode, startTestSystemd, type TestNode, type TestSystemd } from '../../lab/testbed/index.ts';
import { syncUntil } from '../harness/index.ts';

const run = promisify(execFile);
const id = randomBytes(3).toString('hex');
/** the slice every pod of this test goes below: skiffsd<id>.slice */
const root = `skiffsd${id}`;
const systemdLog = join(tmpdir(), `skiff-systemd-${id}.log`);

let systemd: TestSystemd;
let node: TestNode;
let cgroups: PodCgroups;
let slices: SystemdSlices;
let syncer: PodSyncer;

async function systemctlShow(unit: string, properties: string[]): Promise<Record<string, string>> {
  const [cmd, ...args] = systemd.inside(['systemctl', 'show', unit, ...properties.map((p) => `--property=${p}`)]);
  const { stdout } = await run(cmd!, args);
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  systemd = await startTestSystemd(systemdLog);
  node = await startTestNode('sdcg', 222, { systemd });
  slices = new SystemdSlices({ systemctl: systemd.inside(['systemctl']), runtimeDir: systemd.runtimeDir });
  cgroups = await PodCgroups.detect(root, { driver: 'systemd', systemd: slices });
  syncer = new PodSyncer({
    cri: node.cri,
    env: {
      nodeName: 'itest-node',
      hostIP: '127.0.0.1',
      clusterDNS: [],
      clusterDomain: 'cluster.local',
      hostDns: { servers: [], searches: [], options: [] },
      podLogsDir: join(node.dir, 'logs'),
    },
    runtimeName: 'containerd',
    podsDir: join(node.dir, 'pods'),
    events: () => () => undefined,
    objects: { configMap: async () => undefined, secret: async () => undefined },
    cgroups,
    log: silentLogger,
  });
});

afterAll(async () => {
  try {
    await node?.teardown();
    await cgroups?.removeAll();
  } finally {
    await systemd?.stop();
    if (!process.env.SKIFF_TEST_KEEP) await rm(systemdLog, { force: true });
  }
  // no slice of ours is left in any hierarchy
  for (const h of await readdir('/sys/fs/cgroup')) expect(await exists(join('/sys/fs/cgroup', h, `${root}.slice`))).toBe(false);
});

describe('the systemd cgroup driver', () => {
  it('runs a pod in a slice systemd made with the pod-level limits, its containers in scopes below, and stops the slice with the pod', async () => {
    const uid = `uid-sd-${id}`;
    // host network: this test is about cgroups, and the runtime lives in the test systemd's namespaces
    const p: Pod = {
      metadata: { name: 'limited', namespace: 'itest', uid },
      spec: {
        hostNetwork: true,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'main',
            image: 'busybox',
            imagePullPolicy: 'IfNotPresent',
            command: ['sleep', '3600'],
            resources: { requests: { cpu: '250m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          },
        ],
      },
      status: { phase: 'Pending' },
    };
    const memory = newPodMemory();
    const status = await syncUntil(syncer, p, memory, (s) => s.phase === 'Running');

    // the kubelet's systemd names: each level a slice, dashes in the uid escaped
    const slice = `${root}-kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice`;
    const parent = cgroups.parentOf(p);
    expect(parent).toBe(`/${root}.slice/${root}-kubepods.slice/${root}-kubepods-burstable.slice/${slice}`);
    expect(await systemctlShow(slice, ['ActiveState', 'MemoryLimit', 'CPUShares'])).toEqual({
      ActiveState: 'active',
      MemoryLimit: String(64 * 2 ** 20),
      CPUShares: '256',
    });
    expect(await exists(slices.settingsDir(slice))).toBe(true);
    expect((await readFile(join('/sys/fs/cgroup/memory', parent, 'memory.limit_in_bytes'), 'utf8')).trim()).toBe(String(64 * 2 ** 20));
    expect((await readFile(join('/sys/fs/cgroup/cpu', parent, 'cpu.shares'), 'utf8')).trim()).toBe('256');

    // runc made a scope for the sandbox and for the container in the pod's slice, and the stats find them by runtime id
    const containerId = status.containerStatuses?.[0]?.containerID?.replace('containerd://', '') ?? '';
    const below = await cgroups.containers(parent);
    expect(below.map((c) => c.id)).toContain(containerId);
    expect(below.map((c) => c.cgroup)).toContain(`${parent}/cri-containerd-${containerId}.scope`);
    expect(await systemctlShow(`cri-containerd-${containerId}.scope`, ['Slice'])).toEqual({ Slice: slice });
    const usage = await cgroups.usage(parent);
    expect(usage?.processes).toBeGreaterThanOrEqual(2); // pause and sleep

    await syncer.terminate(p, 1, memory);
    await syncer.remove(uid, p);
    expect((await systemctlShow(slice, ['ActiveState'])).ActiveState).toBe('inactive');
    expect(await exists(slices.settingsDir(slice))).toBe(false);
    expect(await exists(join('/sys/fs/cgroup/memory', parent))).toBe(false);
    expect(await exists(join('/sys/fs/cgroup/cpuacct', parent))).toBe(false);
  });
});
