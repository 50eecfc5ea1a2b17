// Pod start-up with a new PersistentVolumeClaim: creation of claim + pod to
// Running, observed via watch, for 20 pods one at a time — scheduling with
// WaitForFirstConsumer, provisioning (CreateVolume, a sparse file), staging
// (loop device, mkfs.ext4, mount) and publishing (bind mount) included.
// Then the bundled driver's own steps per volume, called directly.
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { RestClient, loadKubeconfig, type WatchEvent } from '../apimachinery/index.ts';
import { CsiClient, type VolumeCapability } from '../csi/index.ts';
import { installStorageDefaults } from '../lab/index.ts';
import { startTestCluster } from '../lab/testbed/index.ts';
import { summary } from './stats.ts';

const N = 20;
const MiB = 1024 * 1024;

const claimSpec = (name: string) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, labels: { bench: 'pvc' } },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
});
const podSpec = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { bench: 'pvc' } },
  spec: {
    terminationGracePeriodSeconds: 0,
    containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: name } }],
  },
});

async function startOne(client: RestClient, name: string): Promise<number> {
  const stop = new AbortController();
  let resolve: (ms: number) => void = () => undefined;
  const done = new Promise<number>((r) => (resolve = r));
  const t0 = performance.now();
  const watching = client.watch<Pod>(
    { resource: 'pods', namespace: 'default' },
    { fieldSelector: `metadata.name=${name}` },
    (e: WatchEvent<Pod>) => {
      if (e.object.status?.phase === 'Running') resolve(performance.now() - t0);
    },
    { signal: stop.signal },
  );
  await client.create({ resource: 'persistentvolumeclaims', namespace: 'default' }, claimSpec(name));
  await client.create({ resource: 'pods', namespace: 'default' }, podSpec(name));
  const ms = await done;
  stop.abort();
  await watching.catch(() => undefined);
  return ms;
}

async function deleteAll(client: RestClient): Promise<void> {
  await client.request('DELETE', '/api/v1/namespaces/default/pods?labelSelector=bench%3Dpvc&gracePeriodSeconds=0');
  await client.request('DELETE', '/api/v1/namespaces/default/persistentvolumeclaims?labelSelector=bench%3Dpvc');
  for (;;) {
    const pvs = await client.get<{ items: unknown[] }>({ resource: 'persistentvolumes' });
    const pvcs = await client.get<{ items: unknown[] }>({ resource: 'persistentvolumeclaims', namespace: 'default' });
    if (pvs.items.length === 0 && pvcs.items.length === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Each driver step on its own, per volume: CreateVolume, first stage (attach + mkfs + mount), publish, unpublish, unstage, second stage (no mkfs), DeleteVolume. */
async function driverSteps(socket: string, dir: string): Promise<Record<string, number[]>> {
  const csi = new CsiClient(socket);
  const cap: VolumeCapability = { mount: { fsType: 'ext4', mountFlags: [] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } };
  const steps: Record<string, number[]> = { create: [], stage_first: [], publish: [], unpublish: [], unstage: [], stage_again: [], delete: [] };
  const time = async (step: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    steps[step]?.push(performance.now() - t0);
  };
  try {
    for (let i = 0; i < N; i++) {
      let volumeId = '';
      await time(
        'create',
        async () =>
          (volumeId = (await csi.createVolume({ name: `bench-${i}`, capacityRange: { requiredBytes: 64 * MiB }, volumeCapabilities: [cap], parameters: {} }))
            .volumeId),
      );
      const staging = join(dir, 'bench-staging', volumeId);
      const target = join(dir, 'bench-target', volumeId);
      await time('stage_first', () => csi.nodeStageVolume({ volumeId, stagingTargetPath: staging, volumeCapability: cap }));
      await time('publish', () => csi.nodePublishVolume({ volumeId, stagingTargetPath: staging, targetPath: target, volumeCapability: cap }));
      await time('unpublish', () => csi.nodeUnpublishVolume(volumeId, target));
      await time('unstage', () => csi.nodeUnstageVolume(volumeId, staging));
      await time('stage_again', () => csi.nodeStageVolume({ volumeId, stagingTargetPath: staging, volumeCapability: cap }));
      await csi.nodeUnstageVolume(volumeId, staging);
      await time('delete', () => csi.deleteVolume(volumeId));
    }
  } finally {
    csi.close();
  }
  return steps;
}

const cluster = await startTestCluster('pvcb', 219);
try {
  await cluster.startCsiDriver();
  const client = new RestClient(await loadKubeconfig(cluster.kubeconfig));
  await installStorageDefaults(client);
  const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
  // warm-up: image pulled, driver registered, every path taken once
  for (;;) {
    const csiNode = await client
      .get<{ spec?: { drivers?: unknown[] } }>({ group: 'storage.k8s.io', version: 'v1', resource: 'csinodes', name: cluster.nodeName })
      .catch(() => undefined);
    if (csiNode?.spec?.drivers?.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await startOne(client, 'warm');
  await deleteAll(client);
  const latencies: number[] = [];
  for (let i = 0; i < N; i++) latencies.push(await startOne(client, `pvc-${i}`));
  await deleteAll(client);
  client.close();
  const steps = await driverSteps(join(cluster.node.dir, 'csi.sock'), cluster.node.dir);
  const emit = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, ...base })}\n`);
  emit({ name: 'pvc-startup/new-claim-to-running', ...summary(latencies) });
  for (const [step, xs] of Object.entries(steps)) emit({ name: `pvc-startup/driver-${step}`, ...summary(xs) });
} finally {
  await cluster.teardown();
}
