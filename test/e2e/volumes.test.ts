// Volumes and environment from the API on a real node: ConfigMap and Secret
// volumes (updated in place), env from their keys, emptyDir on disk and in
// memory shared between containers, downward API files — and the kubelet's
// errors when a source is missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifest, eventsOf, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('vol', 208);
});

afterAll(async () => {
  await c?.teardown();
});

const apply = (manifest: string) => applyManifest(c, manifest);
const events = (pod: string) => eventsOf(c, pod);

describe('volumes and env on a real node', () => {
  it('mounts ConfigMaps and Secrets, fills env from them, and updates the files in place', async () => {
    await c.kubectl('create', 'configmap', 'settings', '--from-literal=greeting=hello', '--from-literal=mode=fast');
    await c.kubectl('create', 'secret', 'generic', 'creds', '--from-literal=token=s3cret');
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: reader, labels: {app: reader, tier: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'cat /etc/config/greeting; echo; cat /etc/secret/token; echo; echo "$GREETING $TOKEN $APP_mode"; cat /etc/info/labels; echo; exec sleep 600']
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: settings, key: greeting}}}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}
    envFrom: [{prefix: APP_, configMapRef: {name: settings}}]
    volumeMounts:
    - {name: config, mountPath: /etc/config}
    - {name: secret, mountPath: /etc/secret}
    - {name: info, mountPath: /etc/info}
  volumes:
  - {name: config, configMap: {name: settings}}
  - {name: secret, secret: {secretName: creds}}
  - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
`);
    await waitForJsonPath(c, ['pod', 'reader'], '{.status.phase}', 'Running');
    await expect.poll(() => c.kubectl('logs', 'reader'), { timeout: 20_000 }).toBe('hello\ns3cret\nhello s3cret fast\napp="reader"\ntier="web"\n');
    // an update reaches the mounted file without a restart
    await c.kubectl('patch', 'configmap', 'settings', '-p', '{"data":{"greeting":"bonjour"}}');
    await expect
      .poll(
        () =>
          c.node.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': 'reader' } }).then(async (cs) => {
            const r = await c.node.cri.execSync(cs[0]?.id ?? '', ['cat', '/etc/config/greeting'], 5);
            return Buffer.from(r.stdout ?? []).toString();
          }),
        { timeout: 30_000 },
      )
      .toBe('bonjour');
    expect(await c.kubectl('get', 'pod', 'reader', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}')).toBe('0');
  });

  it('shares emptyDir volumes between containers, on disk and in memory', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: sharing}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: writer
    image: busybox
    command: [sh, -c, 'echo from-writer > /scratch/note; echo ram > /ram/note; exec sleep 600']
    volumeMounts: [{name: scratch, mountPath: /scratch}, {name: ram, mountPath: /ram}]
  - name: reader
    image: busybox
    command: [sh, -c, 'while [ ! -f /scratch/note ] || [ ! -f /ram/note ]; do sleep 0.2; done; cat /scratch/note /ram/note; grep " /ram " /proc/mounts | cut -d" " -f3; exec sleep 600']
    volumeMounts: [{name: scratch, mountPath: /scratch}, {name: ram, mountPath: /ram}]
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: ram, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
`);
    await waitForJsonPath(c, ['pod', 'sharing'], '{.status.phase}', 'Running');
    await expect.poll(() => c.kubectl('logs', 'sharing', '-c', 'reader'), { timeout: 20_000 }).toBe('from-writer\nram\ntmpfs\n');
    await c.kubectl('delete', 'pod', 'sharing');
  });

  it('waits with FailedMount for a missing ConfigMap and starts once it exists; reports a missing Secret key', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: patient}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: busybox, command: [sh, -c, 'cat /etc/late/value; echo; exec sleep 600'], volumeMounts: [{name: late, mountPath: /etc/late}]}
  volumes: [{name: late, configMap: {name: late}}]
`);
    await expect
      .poll(() => events('patient'), { timeout: 20_000 })
      .toContain('FailedMount: MountVolume.SetUp failed for volume "late" : configmap "late" not found');
    expect(await c.kubectl('get', 'pod', 'patient', '-o', 'jsonpath={.status.phase}')).toBe('Pending');
    await c.kubectl('create', 'configmap', 'late', '--from-literal=value=arrived');
    await waitForJsonPath(c, ['pod', 'patient'], '{.status.phase}', 'Running', 30_000);
    await expect.poll(() => c.kubectl('logs', 'patient'), { timeout: 20_000 }).toBe('arrived\n');

    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: keyless}
spec:
  containers:
  - {name: app, image: busybox, command: [sleep, '600'], env: [{name: K, valueFrom: {secretKeyRef: {name: creds, key: nope}}}]}
`);
    await waitForJsonPath(c, ['pod', 'keyless'], '{.status.containerStatuses[0].state.waiting.reason}', 'CreateContainerConfigError', 30_000);
    expect(await c.kubectl('get', 'pod', 'keyless', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.message}')).toBe(
      "couldn't find key nope in Secret default/creds",
    );
  });

  it('reports what a container left at its terminationMessagePath, or the end of its log', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: farewell}
spec:
  restartPolicy: Never
  containers:
  - {name: file, image: busybox, command: [sh, -c, 'echo "disk full" > /dev/termination-log; exit 1']}
  - {name: logs, image: busybox, terminationMessagePolicy: FallbackToLogsOnError, command: [sh, -c, 'echo starting; echo "gave up"; exit 2']}
`);
    await waitForJsonPath(c, ['pod', 'farewell'], '{.status.phase}', 'Failed', 60_000);
    const messages = await c.kubectl('get', 'pod', 'farewell', '-o', 'jsonpath={range .status.containerStatuses[*]}{.name}={.state.terminated.message}|{end}');
    expect(messages).toBe('file=disk full\n|logs=starting\ngave up\n|');
  });
});
