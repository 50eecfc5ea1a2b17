// Snapshots and restore on a real cluster, as an operator does them:
// `skiff snapshot save` while the cluster runs, more changes, the server
// stopped and `skiff server --cluster-reset --cluster-reset-restore-path`,
// the server started again: the API is as the snapshot had it, the agent
// stops the pod the snapshot lacks and leaves the one it has running
// untouched (same container, no restart).
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../lab/index.ts';
import { SKIFF, applyManifest, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

const run = promisify(execFile);
let c: TestCluster;
let store = '';
let snapshots = '';

beforeAll(async () => {
  c = await startTestCluster('snap', 228);
  store = `sqlite://${join(c.node.dir, 'state.db')}`;
  snapshots = join(c.node.dir, 'snapshots');
}, 120_000);

afterAll(async () => {
  await c?.teardown();
});

const pod = (name: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`;
const skiff = (...args: string[]) => run(SKIFF, args, { timeout: 60_000 });
const containersOf = async (name: string) => c.node.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': name } });
const reset = (snapshot: string, endpoint = store) =>
  skiff('server', '--cluster-reset', '--cluster-reset-restore-path', snapshot, '--datastore-endpoint', endpoint, '--pki-dir', join(c.node.dir, 'pki'));

describe('snapshots and restore', () => {
  it('restores the store as the snapshot had it: the later pod stops, the earlier one runs on untouched', async () => {
    await applyManifest(c, pod('kept'));
    await waitForJsonPath(c, ['pod', 'kept'], '{.status.phase}', 'Running');
    const keptContainer = await c.kubectl('get', 'pod', 'kept', '-o', 'jsonpath={.status.containerStatuses[0].containerID}');

    const saved = await skiff('snapshot', 'save', '--name', 'before-later', '--datastore-endpoint', store, '--snapshot-dir', snapshots);
    const name = /^Snapshot (before-later-\S+-\d+) saved\.$/m.exec(saved.stdout)?.[1] as string;
    expect(name).toBeDefined();
    expect((await skiff('snapshot', 'list', '--snapshot-dir', snapshots)).stdout).toMatch(
      new RegExp(`^Name\\s+Location\\s+Size\\s+Created\\n${name}\\s+file://${snapshots}/${name}\\s+\\d+\\s+\\S+$`, 'm'),
    );

    await applyManifest(c, pod('later'));
    await c.kubectl('create', 'configmap', 'later-settings', '--from-literal=k=v');
    await waitForJsonPath(c, ['pod', 'later'], '{.status.phase}', 'Running');
    expect((await containersOf('later')).some((ct) => ct.state === 'CONTAINER_RUNNING')).toBe(true);

    await c.restartServer({
      kill: false,
      downMs: 0,
      whileDown: async () => {
        const restored = await reset(join(snapshots, name));
        expect(restored.stdout).toContain('start the server again without --cluster-reset');
      },
    });

    expect((await c.kubectlResult(['get', 'pod', 'later'])).stderr).toContain('pods "later" not found');
    expect((await c.kubectlResult(['get', 'configmap', 'later-settings'])).stderr).toContain('configmaps "later-settings" not found');
    // the agent lists again, finds the pod gone and stops it
    await waitFor('the later pod stopped', async () => (await containersOf('later')).every((ct) => ct.state !== 'CONTAINER_RUNNING'), 60_000, 500);
    // and removed: its sandbox goes too, nothing of it is left behind
    await waitFor(
      'the later pod removed',
      async () => (await c.node.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.name': 'later' } })).length === 0,
      60_000,
      500,
    );
    // the earlier one: the same container, never restarted
    await waitForJsonPath(c, ['pod', 'kept'], '{.status.phase}', 'Running');
    expect(await c.kubectl('get', 'pod', 'kept', '-o', 'jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}')).toBe(
      `${keptContainer} 0`,
    );
    // and the cluster takes writes again
    await c.kubectl('create', 'configmap', 'after-restore', '--from-literal=k=v');
  }, 180_000);

  it('refuses to restore a file that is no snapshot, or an etcd store, and leaves the store as it was', async () => {
    const junk = join(c.node.dir, 'junk.db');
    await writeFile(junk, 'nothing like a database, only some text that is long enough');
    await c.restartServer({
      kill: false,
      downMs: 0,
      whileDown: async () => {
        await expect(reset(junk)).rejects.toMatchObject({ stderr: expect.stringContaining(`${junk} is not a skiff SQLite snapshot`) });
        await expect(reset(junk, 'etcd://127.0.0.1:2379')).rejects.toMatchObject({ stderr: expect.stringContaining('etcdutl snapshot restore') });
      },
    });
    expect(await c.kubectl('get', 'configmap', 'after-restore', '-o', 'jsonpath={.data.k}')).toBe('v');
  }, 120_000);
});
