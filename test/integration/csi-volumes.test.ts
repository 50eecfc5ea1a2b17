// The agent's side of CSI on real mounts: plugin registration through the
// registry directory, the CSI volume plugin staging once per node and
// publishing per pod, unstaging with the last pod, adopting what is mounted
// after a restart, and sweeping a staging no pod refers to any more.
import { execFile } from 'node:child_process';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountAt, mountsUnder, silentLogger } from '../../apimachinery/index.ts';
import { CsiVolumes, PluginRegistry } from '../../agent/storage/index.ts';
import { startTestDriver, type TestDriver } from '../harness/index.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
let d: TestDriver;
let registryDir: string;
let claim: PersistentVolumeClaim;
let pv: PersistentVolume;

const claims = { claim: async () => claim, volume: async () => pv };
const pod = (uid: string): Pod => ({ metadata: { name: uid, namespace: 'ns', uid }, spec: { containers: [], securityContext: { fsGroup: 3000 } } });
const volume = { name: 'data', persistentVolumeClaim: { claimName: 'data' } };
const loops = async () => (await run('losetup', ['-l', '-n', '-O', 'NAME,BACK-FILE'])).stdout.split('\n').filter((l) => l.includes(d.dir));

async function volumesOn(registry: PluginRegistry): Promise<CsiVolumes> {
  await registry.scan();
  return new CsiVolumes({ plugins: registry, claims, rootDir: join(d.dir, 'agent'), podsDir: join(d.dir, 'agent', 'pods'), log: silentLogger });
}

beforeAll(async () => {
  d = await startTestDriver('vols', 'node-a');
  registryDir = join(d.dir, 'registry');
  await d.register(registryDir);
  const v = await d.client.createVolume({
    name: 'pvc-data',
    capacityRange: { requiredBytes: 16 * MiB },
    volumeCapabilities: [{ mount: { fsType: 'ext4' }, accessMode: { mode: 'SINGLE_NODE_WRITER' } }],
    parameters: {},
  });
  claim = {
    metadata: { name: 'data', namespace: 'ns', uid: 'c1' },
    spec: { volumeName: 'pv-data', accessModes: ['ReadWriteOnce'] },
    status: { phase: 'Bound' },
  };
  pv = {
    metadata: { name: 'pv-data' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '16Mi' },
      claimRef: { uid: 'c1' },
      csi: { driver: 'csi.skiff.dev', volumeHandle: v.volumeId, fsType: 'ext4' },
    },
  };
});

afterAll(async () => {
  await d?.teardown();
});

describe("the agent's CSI volume plugin on real mounts", () => {
  it('registers the driver from its registration socket, with what NodeGetInfo and the capabilities say', async () => {
    const registry = new PluginRegistry(registryDir, silentLogger);
    await registry.scan();
    const p = registry.get('csi.skiff.dev');
    expect(p).toMatchObject({ nodeId: 'node-a', endpoint: d.socket, topology: { segments: { 'topology.csi.skiff.dev/node': 'node-a' } } });
    expect([...(p?.controllerCapabilities ?? [])]).toContain('CREATE_DELETE_VOLUME');
    expect([...(p?.nodeCapabilities ?? [])]).toContain('STAGE_UNSTAGE_VOLUME');
  });

  it('stages once for two pods, publishes each, gives fsGroup the volume, and unstages with the last pod', async () => {
    const vols = await volumesOn(new PluginRegistry(registryDir, silentLogger));
    const podA = join(d.dir, 'agent', 'pods', 'a');
    const podB = join(d.dir, 'agent', 'pods', 'b');
    const a = await vols.setUp(pod('a'), volume, podA);
    const b = await vols.setUp(pod('b'), volume, podB);
    expect(a.hostPath).toBe(join(podA, 'volumes', 'kubernetes.io~csi', 'pv-data', 'mount'));
    expect((await stat(a.hostPath)).gid).toBe(3000);
    await writeFile(join(a.hostPath, 'x'), 'shared');
    expect((await run('cat', [join(b.hostPath, 'x')])).stdout).toBe('shared');
    expect(await loops()).toHaveLength(1);
    await vols.tearDown(podA);
    expect(await mountAt(a.hostPath)).toBeUndefined();
    expect(await mountAt(vols.stagingPath('csi.skiff.dev', pv.spec?.csi?.volumeHandle ?? ''))).toBeDefined();
    await vols.tearDown(podB);
    expect(await mountsUnder([join(d.dir, 'agent')])).toEqual([]);
    expect(await loops()).toEqual([]);
  });

  it('adopts what is mounted after a restart instead of mounting it again', async () => {
    const podA = join(d.dir, 'agent', 'pods', 'a');
    const first = await volumesOn(new PluginRegistry(registryDir, silentLogger));
    const { hostPath } = await first.setUp(pod('a'), volume, podA);
    const before = await loops();
    // a new agent process: a fresh registry and volume plugin over the same directories
    const second = await volumesOn(new PluginRegistry(registryDir, silentLogger));
    await second.setUp(pod('a'), volume, podA);
    expect(await loops()).toEqual(before);
    expect((await mountsUnder([join(d.dir, 'agent')])).filter((m) => m === hostPath)).toHaveLength(1);
    await second.tearDown(podA);
    expect(await loops()).toEqual([]);
  });

  it("keeps a pod's mounts while the driver is away, and unstages a staging no pod refers to", async () => {
    const registry = new PluginRegistry(registryDir, silentLogger);
    const vols = await volumesOn(registry);
    const podC = join(d.dir, 'agent', 'pods', 'c');
    const { hostPath } = await vols.setUp(pod('c'), volume, podC);
    // an agent that died after unpublishing, before unstaging: the pod's record is gone, the staging is not
    await run('umount', [hostPath]);
    await rm(podC, { recursive: true });
    expect(await vols.sweepStaged()).toEqual(['pv-data']);
    expect(await loops()).toEqual([]);

    const { hostPath: again } = await vols.setUp(pod('c'), volume, podC);
    d.stop();
    await rm(join(registryDir, 'csi.skiff.dev-reg.sock'), { force: true });
    await registry.scan();
    expect(registry.get('csi.skiff.dev')).toBeUndefined();
    await expect(vols.tearDown(podC)).rejects.toThrow(/driver name csi\.skiff\.dev not found in the list of registered CSI drivers/);
    expect(await mountAt(again)).toBeDefined();
    await d.restart();
    await d.register(registryDir);
    await registry.scan();
    await vols.tearDown(podC);
    expect(await mountsUnder([join(d.dir, 'agent')])).toEqual([]);
  });
});
