// Persistent storage end to end on a real node, with the real kubectl: the
// bundled CSI driver as its own process registering with the agent, the
// default StorageClass, WaitForFirstConsumer provisioning on the chosen node,
// loop-device volumes whose bytes outlive their pods, read-only claims,
// expansion, protection finalizers, the Delete reclaim policy, and the
// Kubernetes reasons when something is wrong (then recovery).
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../apimachinery/index.ts';
import { BUNDLED_CSI_DRIVER, DEFAULT_STORAGE_CLASS, waitFor } from '../../lab/index.ts';
import { applyManifest, eventsOf, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

const run = promisify(execFile);
let c: TestCluster;

const apply = (manifest: string) => applyManifest(c, manifest);

function claim(name: string, size: string, extra = ''): string {
  return `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: ${size}}}
${extra}`;
}

function pod(name: string, claimName: string, script: string, opts: { readOnly?: boolean; fsGroup?: number } = {}): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  ${opts.fsGroup !== undefined ? `securityContext: {fsGroup: ${opts.fsGroup}}` : ''}
  containers:
  - name: app
    image: busybox
    command: [sh, -c, '${script}']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: ${claimName}${opts.readOnly ? ', readOnly: true' : ''}}}
`;
}

/** Runs a command in a pod's container through the runtime (as kubectl exec would). */
async function inPod(name: string, cmd: string[]): Promise<{ stdout: string; exitCode: number }> {
  const [ct] = await c.node.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': name }, state: 'CONTAINER_RUNNING' });
  const r = await c.node.cri.execSync(ct?.id ?? '', cmd, 10);
  return { stdout: Buffer.from(r.stdout ?? []).toString(), exitCode: r.exitCode };
}

const volumeFiles = async () => (await readdir(join(c.node.dir, 'csi-state', 'volumes')).catch(() => [] as string[])).filter((f) => f.endsWith('.img'));
const loopDevices = async () => (await run('losetup', ['-l', '-n', '-O', 'BACK-FILE'])).stdout.split('\n').filter((l) => l.includes(c.node.dir));
const mountsOfVolumes = () => mountsUnder([join(c.agentRoot, 'plugins'), join(c.agentRoot, 'pods')]);

beforeAll(async () => {
  c = await startTestCluster('stor', 218);
  await c.startCsiDriver();
  await apply(JSON.stringify(BUNDLED_CSI_DRIVER));
  await apply(JSON.stringify(DEFAULT_STORAGE_CLASS));
});

afterAll(async () => {
  await c?.teardown();
});

describe('persistent volumes through CSI', () => {
  it('registers the driver: CSINode lists it with its topology, the node carries its id and topology label, the default class shows', async () => {
    await waitForJsonPath(
      c,
      ['csinode', c.nodeName],
      '{.spec.drivers[0].name} {.spec.drivers[0].nodeID} {.spec.drivers[0].topologyKeys[0]}',
      `csi.skiff.dev ${c.nodeName} topology.csi.skiff.dev/node`,
    );
    expect(
      await c.kubectl(
        'get',
        'node',
        c.nodeName,
        '-o',
        'jsonpath={.metadata.labels.topology\\.csi\\.skiff\\.dev/node} {.metadata.annotations.csi\\.volume\\.kubernetes\\.io/nodeid}',
      ),
    ).toBe(`${c.nodeName} {"csi.skiff.dev":"${c.nodeName}"}`);
    expect(await c.kubectl('get', 'storageclass')).toMatch(/skiff-local \(default\)\s+csi\.skiff\.dev\s+Delete\s+WaitForFirstConsumer\s+true/);
    expect(await c.kubectl('get', 'csinode', c.nodeName)).toMatch(new RegExp(`${c.nodeName}\\s+1\\s+`));
    expect(await c.kubectl('get', 'csidriver')).toMatch(/csi\.skiff\.dev\s+false\s+false\s+false\s+<unset>\s+false\s+Persistent/);
  });

  it("provisions a claim for its first pod on that pod's node; the bytes outlive the pod; fsGroup owns the volume", async () => {
    await apply(claim('data', '64Mi'));
    // the default class is filled in, and the claim waits for a consumer
    expect(await c.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.spec.storageClassName} {.metadata.finalizers[0]}')).toBe(
      'skiff-local kubernetes.io/pvc-protection',
    );
    await expect.poll(() => eventsOf(c, 'data'), { timeout: 20_000 }).toMatch(/WaitForFirstConsumer: waiting for first consumer to be created before binding/);
    expect(await c.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.status.phase}')).toBe('Pending');

    await apply(pod('writer', 'data', 'echo persisted-bytes > /data/file && stat -c %g /data && exec sleep 600', { fsGroup: 2000 }));
    await waitForJsonPath(c, ['pod', 'writer'], '{.status.phase}', 'Running', 90_000);
    expect(
      await c.kubectl(
        'get',
        'pvc',
        'data',
        '-o',
        'jsonpath={.status.phase} {.status.capacity.storage} {.metadata.annotations.volume\\.kubernetes\\.io/selected-node}',
      ),
    ).toBe(`Bound 64Mi ${c.nodeName}`);
    const pv = await c.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}');
    expect(
      await c.kubectl(
        'get',
        'pv',
        pv,
        '-o',
        'jsonpath={.spec.csi.driver} {.spec.persistentVolumeReclaimPolicy} {.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]} {.metadata.annotations.pv\\.kubernetes\\.io/provisioned-by}',
      ),
    ).toBe(`csi.skiff.dev Delete ${c.nodeName} csi.skiff.dev`);
    await expect.poll(() => c.kubectl('logs', 'writer'), { timeout: 20_000 }).toBe('2000\n');
    expect(await eventsOf(c, 'data')).toMatch(/ProvisioningSucceeded: Successfully provisioned volume/);
    expect(await volumeFiles()).toHaveLength(1);

    // the pod goes: the volume is unpublished and unstaged, its loop device detached
    await c.kubectl('delete', 'pod', 'writer', '--wait=true');
    await expect.poll(mountsOfVolumes, { timeout: 30_000 }).toEqual([]);
    await expect.poll(loopDevices, { timeout: 10_000 }).toEqual([]);

    await apply(pod('reader', 'data', 'cat /data/file && exec sleep 600'));
    await waitForJsonPath(c, ['pod', 'reader'], '{.status.phase}', 'Running', 60_000);
    await expect.poll(() => c.kubectl('logs', 'reader'), { timeout: 20_000 }).toBe('persisted-bytes\n');
  });

  it('enforces a read-only claim while another pod on the node writes to the same volume', async () => {
    await apply(pod('ro', 'data', 'exec sleep 600', { readOnly: true }));
    await waitForJsonPath(c, ['pod', 'ro'], '{.status.phase}', 'Running', 60_000);
    expect((await inPod('ro', ['cat', '/data/file'])).stdout).toBe('persisted-bytes\n');
    expect((await inPod('ro', ['sh', '-c', 'echo x > /data/other'])).exitCode).not.toBe(0);
    expect((await inPod('reader', ['sh', '-c', 'echo more > /data/more && cat /data/more'])).stdout).toBe('more\n');
    // one staging for both pods on the node
    expect(await loopDevices()).toHaveLength(1);
    await c.kubectl('delete', 'pod', 'ro', '--wait=true');
    expect((await inPod('reader', ['cat', '/data/file'])).stdout).toBe('persisted-bytes\n');
  });

  it('recovers a pod whose agent was killed after staging: the stage is kept, the pod is published, nothing restarts', async () => {
    const device = await loopDevices();
    process.kill(c.agent.pid as number, 'SIGKILL');
    await apply(pod('late', 'data', 'cat /data/more && exec sleep 600'));
    await c.restartAgent();
    await waitForJsonPath(c, ['pod', 'late'], '{.status.phase}', 'Running', 60_000);
    await expect.poll(() => c.kubectl('logs', 'late'), { timeout: 20_000 }).toBe('more\n');
    expect(await loopDevices()).toEqual(device);
    expect(await c.kubectl('get', 'pod', 'reader', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}')).toBe('Running 0');
    await c.kubectl('delete', 'pod', 'late', '--wait=true');
  });

  it('expands a claim: the volume grows at once, the ext4 filesystem when the volume is next staged', async () => {
    await c.kubectl('patch', 'pvc', 'data', '-p', '{"spec":{"resources":{"requests":{"storage":"160Mi"}}}}');
    const pv = await c.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}');
    await waitForJsonPath(c, ['pv', pv], '{.spec.capacity.storage}', '160Mi');
    await waitForJsonPath(c, ['pvc', 'data'], '{.status.conditions[0].type}', 'FileSystemResizePending');
    // this host withholds CAP_SYS_RESOURCE, which growing a mounted ext4 needs: the resize waits for the next stage
    await expect.poll(() => eventsOf(c, 'data'), { timeout: 20_000 }).toMatch(/FileSystemResizeFailed/);
    await c.kubectl('delete', 'pod', 'reader', '--wait=true');
    // as with the kubelet, a deleted pod leaves the API only once its volumes are unmounted: the next pod stages afresh
    expect(await mountsOfVolumes()).toEqual([]);
    await apply(pod('grown', 'data', 'df -m /data | tail -1 && cat /data/file && exec sleep 600'));
    await waitForJsonPath(c, ['pod', 'grown'], '{.status.phase}', 'Running', 60_000);
    await waitForJsonPath(c, ['pvc', 'data'], '{.status.capacity.storage} {.status.conditions}', '160Mi ');
    const [df, content] = (await c.kubectl('logs', 'grown')).trim().split('\n');
    expect(Number(df?.trim().split(/\s+/)[1])).toBeGreaterThan(140);
    expect(content).toBe('persisted-bytes');
    expect(await eventsOf(c, 'data')).toMatch(/FileSystemResizeSuccessful/);
    // shrinking is refused
    const shrink = await c.kubectlResult(['patch', 'pvc', 'data', '-p', '{"spec":{"resources":{"requests":{"storage":"32Mi"}}}}']);
    expect(shrink.code).not.toBe(0);
    expect(shrink.stderr).toMatch(/spec.resources.requests.storage: Forbidden: field can not be less than previous value/);
  });

  it('keeps a claim in use until its pod is gone, then deletes the volume under the Delete policy', async () => {
    const pv = await c.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}');
    await c.kubectl('delete', 'pvc', 'data', '--wait=false');
    await waitForJsonPath(c, ['pvc', 'data'], '{.metadata.deletionTimestamp}', /\d{4}-/);
    expect(await c.kubectl('get', 'pvc', 'data')).toMatch(/data\s+Terminating/);
    expect(await c.kubectl('get', 'pod', 'grown', '-o', 'jsonpath={.status.phase}')).toBe('Running');
    await c.kubectl('delete', 'pod', 'grown', '--wait=true');
    await waitFor('claim gone', async () => (await c.kubectlResult(['get', 'pvc', 'data'])).code !== 0, 30_000, 250);
    await waitFor('volume gone', async () => (await c.kubectlResult(['get', 'pv', pv])).code !== 0, 30_000, 250);
    expect(await volumeFiles()).toEqual([]);
    expect(await mountsOfVolumes()).toEqual([]);
  });

  it('retains a volume under the Retain policy; an admin-made volume binds statically', async () => {
    await apply(`
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: keep}
provisioner: csi.skiff.dev
reclaimPolicy: Retain
volumeBindingMode: Immediate
parameters: {backend: dir}
`);
    await apply(claim('kept', '8Mi', '  storageClassName: keep'));
    // Immediate: provisioned without a pod, on the node that took it
    await waitForJsonPath(c, ['pvc', 'kept'], '{.status.phase}', 'Bound', 60_000);
    const pv = await c.kubectl('get', 'pvc', 'kept', '-o', 'jsonpath={.spec.volumeName}');
    const handle = await c.kubectl('get', 'pv', pv, '-o', 'jsonpath={.spec.csi.volumeHandle}');
    await c.kubectl('delete', 'pvc', 'kept');
    await waitForJsonPath(c, ['pv', pv], '{.status.phase}', 'Released');
    expect(await readdir(join(c.node.dir, 'csi-state', 'volumes'))).toContain(handle);

    // a volume made by hand for that data, and a claim that asks for it by class
    await apply(`
apiVersion: v1
kind: PersistentVolume
metadata: {name: handmade}
spec:
  capacity: {storage: 8Mi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  csi: {driver: csi.skiff.dev, volumeHandle: ${handle}}
`);
    await waitForJsonPath(c, ['pv', 'handmade'], '{.status.phase}', 'Available');
    await apply(claim('manual', '4Mi', '  storageClassName: manual'));
    await waitForJsonPath(c, ['pvc', 'manual'], '{.status.phase} {.spec.volumeName}', 'Bound handmade');
    expect(await c.kubectl('get', 'pv', 'handmade', '-o', 'jsonpath={.spec.claimRef.name} {.metadata.finalizers[0]}')).toBe(
      'manual kubernetes.io/pv-protection',
    );
  });

  it('reports an unknown class and a claim larger than the disk, leaks nothing, and recovers when the class appears', async () => {
    await apply(claim('classless', '8Mi', '  storageClassName: later'));
    await expect.poll(() => eventsOf(c, 'classless'), { timeout: 20_000 }).toMatch(/ProvisioningFailed: storageclass\.storage\.k8s\.io "later" not found/);
    await apply(`
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: later}
provisioner: csi.skiff.dev
volumeBindingMode: Immediate
`);
    await waitForJsonPath(c, ['pvc', 'classless'], '{.status.phase}', 'Bound', 60_000);

    const before = await volumeFiles();
    await apply(claim('huge', '100Ti'));
    await apply(pod('huge', 'huge', 'exec sleep 600'));
    await expect
      .poll(() => eventsOf(c, 'huge'), { timeout: 30_000 })
      .toMatch(/ProvisioningFailed: failed to provision volume with StorageClass "skiff-local": rpc error: code = ResourceExhausted desc = not enough space/);
    expect(await c.kubectl('get', 'pod', 'huge', '-o', 'jsonpath={.status.phase}')).toBe('Pending');
    expect(await volumeFiles()).toEqual(before);
    await c.kubectl('delete', 'pod', 'huge', '--wait=true');
    await c.kubectl('delete', 'pvc', 'huge', '--wait=true');
  });

  it('fails to mount while the driver is away (FailedMount), and mounts once it is back', async () => {
    await apply(claim('later-data', '16Mi'));
    await apply(pod('first', 'later-data', 'echo ok > /data/f && exec sleep 600'));
    await waitForJsonPath(c, ['pod', 'first'], '{.status.phase}', 'Running', 60_000);
    await c.kubectl('delete', 'pod', 'first', '--wait=true');
    await c.stopCsiDriver();
    // the registration socket is gone with the driver: the agent drops it from CSINode
    await waitForJsonPath(c, ['csinode', c.nodeName], '{.spec.drivers}', '[]', 30_000);
    await apply(pod('second', 'later-data', 'cat /data/f && exec sleep 600'));
    await expect
      .poll(() => eventsOf(c, 'second'), { timeout: 30_000 })
      .toMatch(/FailedMount: .*driver name csi\.skiff\.dev not found in the list of registered CSI drivers/);
    await c.startCsiDriver();
    await waitForJsonPath(c, ['pod', 'second'], '{.status.phase}', 'Running', 60_000);
    await expect.poll(() => c.kubectl('logs', 'second'), { timeout: 20_000 }).toBe('ok\n');
  });

  it('cleans up the volume of a pod deleted while the agent was down', async () => {
    await apply(claim('orphaned', '16Mi'));
    await apply(pod('orphan', 'orphaned', 'exec sleep 600'));
    await waitForJsonPath(c, ['pod', 'orphan'], '{.status.phase}', 'Running', 60_000);
    const pv = await c.kubectl('get', 'pvc', 'orphaned', '-o', 'jsonpath={.spec.volumeName}');
    const devices = await loopDevices();
    await expect.poll(async () => (await mountsOfVolumes()).filter((m) => m.includes(pv)), { timeout: 10_000 }).toHaveLength(1);
    process.kill(c.agent.pid as number, 'SIGKILL');
    await c.kubectl('delete', 'pod', 'orphan', '--grace-period=0', '--force');
    await c.restartAgent();
    await expect.poll(async () => (await mountsOfVolumes()).filter((m) => m.includes(pv) || m.includes('globalmount')).length, { timeout: 30_000 }).toBe(1);
    // a detached loop device goes once the last mount of it (in the stopped containers too) is released
    await expect.poll(loopDevices, { timeout: 10_000 }).toHaveLength(devices.length - 1);
    // the other pod's volume is untouched
    expect(await c.kubectl('get', 'pod', 'second', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}')).toBe('Running 0');
  });

  it("reports a pod's persistent volume in the stats summary", async () => {
    const summary = JSON.parse(await c.kubectl('get', '--raw', `/api/v1/nodes/${c.nodeName}/proxy/stats/summary`)) as {
      pods: Array<{ podRef: { name: string }; volume?: Array<Record<string, unknown>> }>;
    };
    const volume = summary.pods.find((p) => p.podRef.name === 'second')?.volume;
    expect(volume).toEqual([
      expect.objectContaining({
        name: 'data',
        pvcRef: { name: 'later-data', namespace: 'default' },
        capacityBytes: expect.any(Number),
        usedBytes: expect.any(Number),
        inodesUsed: expect.any(Number),
      }),
    ]);
    expect(volume?.[0]?.capacityBytes).toBeGreaterThan(10 * 1024 * 1024);
  });

  it("shows the claim's volume use in the kubelet's volume stats series", async () => {
    const text = await c.kubectl('get', '--raw', `/api/v1/nodes/${c.nodeName}/proxy/metrics`);
    const value = (name: string) => Number(new RegExp(`^${name}\\{namespace="default",persistentvolumeclaim="later-data"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('kubelet_volume_stats_capacity_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(value('kubelet_volume_stats_used_bytes')).toBeGreaterThanOrEqual(0);
    expect(value('kubelet_volume_stats_available_bytes')).toBeGreaterThan(0);
    expect(value('kubelet_volume_stats_inodes_used')).toBeGreaterThan(0);
  });
});
