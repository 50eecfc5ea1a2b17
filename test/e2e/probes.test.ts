// Probes and lifecycle hooks on a real node: readiness gates the Ready
// condition, a failing liveness probe restarts the container, a startup probe
// holds the container back until it passes, postStart runs after start and
// preStop before stop — with the kubelet's events.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifest, eventsOf, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('prb', 207);
});

afterAll(async () => {
  await c?.teardown();
});

const apply = (manifest: string) => applyManifest(c, manifest);
const events = (pod: string) => eventsOf(c, pod);

describe('probes on a real node', () => {
  it('keeps a pod out of Ready until its readiness probe passes', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: late}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: [sh, -c, 'mkdir -p /www; (sleep 4; touch /www/ready) & exec httpd -f -p 8080 -h /www']
    readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
    livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`);
    await waitForJsonPath(c, ['pod', 'late'], '{.status.phase}', 'Running');
    expect(await c.kubectl('get', 'pod', 'late', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.containerStatuses[0].ready}')).toBe(
      'False false',
    );
    await waitForJsonPath(c, ['pod', 'late'], '{.status.conditions[?(@.type=="Ready")].status}', 'True', 30_000);
    expect(await events('late')).toContain('Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404');
    expect(await c.kubectl('get', 'pod', 'late', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}')).toBe('0');
  });

  it("keeps a pod with ready containers out of Ready until its readiness gate's condition is True", async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: gated}
spec:
  terminationGracePeriodSeconds: 0
  readinessGates: [{conditionType: example.com/load-balancer}]
  containers: [{name: app, image: busybox, command: [sleep, '600']}]
`);
    await waitForJsonPath(c, ['pod', 'gated'], '{.status.containerStatuses[0].ready}', 'true');
    const ready =
      '{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}: {.status.conditions[?(@.type=="Ready")].message}';
    expect(await c.kubectl('get', 'pod', 'gated', '-o', `jsonpath=${ready}`)).toBe(
      'False ReadinessGatesNotReady: corresponding condition of pod readiness gate "example.com/load-balancer" does not exist.',
    );
    // what a load balancer controller does once it routes to the pod
    await c.kubectl('patch', 'pod', 'gated', '--subresource=status', '-p', '{"status":{"conditions":[{"type":"example.com/load-balancer","status":"False"}]}}');
    await waitForJsonPath(
      c,
      ['pod', 'gated'],
      '{.status.conditions[?(@.type=="Ready")].message}',
      'the status of pod readiness gate "example.com/load-balancer" is not "True", but False',
    );
    await c.kubectl('patch', 'pod', 'gated', '--subresource=status', '-p', '{"status":{"conditions":[{"type":"example.com/load-balancer","status":"True"}]}}');
    await waitForJsonPath(c, ['pod', 'gated'], '{.status.conditions[?(@.type=="Ready")].status}', 'True');
    expect(
      await c.kubectl(
        'get',
        'pod',
        'gated',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="ContainersReady")].status} {.status.conditions[?(@.type=="example.com/load-balancer")].status}',
      ),
    ).toBe('True True');
    await c.kubectl('delete', 'pod', 'gated', '--wait=false');
  });

  it('restarts a container whose liveness probe fails', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: sickly}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'touch /tmp/healthy; sleep 3; rm /tmp/healthy; sleep 600']
    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 2}
`);
    await waitForJsonPath(c, ['pod', 'sickly'], '{.status.containerStatuses[0].restartCount}', /^[1-9]/, 60_000);
    const log = await events('sickly');
    expect(log).toContain("Unhealthy: Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory");
    expect(log).toContain('Killing: Container app failed liveness probe, will be restarted');
    // container garbage collection: after more restarts the runtime keeps the current container and one dead one
    await waitForJsonPath(c, ['pod', 'sickly'], '{.status.containerStatuses[0].restartCount}', /^[2-9]/, 90_000);
    await expect
      .poll(async () => (await c.node.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': 'sickly' } })).length, { timeout: 20_000 })
      .toBeLessThanOrEqual(2);
    expect(await c.kubectl('get', 'pod', 'sickly', '-o', 'jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode}')).toMatch(/^\d+$/);
  });

  it('holds a container back until its startup probe passes', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: slowstart}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'sleep 3; touch /tmp/started; sleep 600']
    startupProbe: {exec: {command: [test, -f, /tmp/started]}, periodSeconds: 1, failureThreshold: 30}
`);
    await waitForJsonPath(c, ['pod', 'slowstart'], '{.status.phase}', 'Running');
    expect(await c.kubectl('get', 'pod', 'slowstart', '-o', 'jsonpath={.status.containerStatuses[0].started} {.status.containerStatuses[0].ready}')).toBe(
      'false false',
    );
    await waitForJsonPath(
      c,
      ['pod', 'slowstart'],
      '{.status.containerStatuses[0].started} {.status.conditions[?(@.type=="Ready")].status}',
      'true True',
      30_000,
    );
  });

  it('runs postStart after the container starts and preStop before it stops', async () => {
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: hooked}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'while [ ! -f /tmp/ready ]; do sleep 0.2; done; echo hook ran first; exec sleep 600']
    lifecycle:
      postStart: {exec: {command: [touch, /tmp/ready]}}
      preStop: {exec: {command: [sh, -c, 'echo draining; exit 3']}}
`);
    await waitForJsonPath(c, ['pod', 'hooked'], '{.status.phase}', 'Running');
    await expect.poll(() => c.kubectl('logs', 'hooked'), { timeout: 20_000 }).toBe('hook ran first\n');
    await c.kubectl('delete', 'pod', 'hooked', '--wait=true', '--timeout=60s');
    expect(await events('hooked')).toContain(
      'FailedPreStopHook: Exec lifecycle hook ([sh -c echo draining; exit 3]) for Container "app" in Pod "hooked_default(',
    );
  });

  it('runs a sidecar beside the containers and lets a Job pod with one complete', async () => {
    await apply(`
apiVersion: batch/v1
kind: Job
metadata: {name: with-sidecar}
spec:
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      initContainers:
      - {name: helper, image: busybox, restartPolicy: Always, command: [sh, -c, 'echo ready > /shared/flag; exec sleep 600'], volumeMounts: [{name: shared, mountPath: /shared}]}
      containers:
      - {name: main, image: busybox, command: [sh, -c, 'cat /shared/flag'], volumeMounts: [{name: shared, mountPath: /shared}]}
      volumes: [{name: shared, emptyDir: {}}]
`);
    await c.kubectl('wait', '--for=condition=complete', 'job/with-sidecar', '--timeout=90s');
    const pod = (await c.kubectl('get', 'pods', '-l', 'job-name=with-sidecar', '-o', 'name')).trim();
    expect(await c.kubectl('logs', pod, '-c', 'main')).toBe('ready\n');
    expect(await c.kubectl('get', pod, '-o', 'jsonpath={.status.phase} {.status.initContainerStatuses[0].name}')).toBe('Succeeded helper');
  });

  it('stops the sidecars after the containers, last declared first', async () => {
    const out = join(c.node.dir, 'stop-order');
    await mkdir(out, { recursive: true });
    // each writes when SIGTERM reaches it; the container takes two seconds to finish
    const traps = (name: string, linger: number) =>
      `trap 'echo ${name} stopping >> /out/log; sleep ${linger}; echo ${name} stopped >> /out/log; exit 0' TERM; while true; do sleep 0.2; done`;
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: ordered}
spec:
  terminationGracePeriodSeconds: 20
  initContainers:
  - {name: first-sidecar, image: busybox, restartPolicy: Always, command: [sh, -c, "${traps('first-sidecar', 0)}"], volumeMounts: [{name: out, mountPath: /out}]}
  - {name: second-sidecar, image: busybox, restartPolicy: Always, command: [sh, -c, "${traps('second-sidecar', 0)}"], volumeMounts: [{name: out, mountPath: /out}]}
  containers:
  - {name: app, image: busybox, command: [sh, -c, "${traps('app', 2)}"], volumeMounts: [{name: out, mountPath: /out}]}
  volumes: [{name: out, hostPath: {path: ${out}, type: Directory}}]
`);
    await waitForJsonPath(c, ['pod', 'ordered'], '{.status.containerStatuses[0].ready}', 'true', 60_000);
    await c.kubectl('delete', 'pod', 'ordered', '--wait=true', '--timeout=60s');
    expect((await readFile(join(out, 'log'), 'utf8')).trim().split('\n')).toEqual([
      'app stopping',
      'app stopped',
      'second-sidecar stopping',
      'second-sidecar stopped',
      'first-sidecar stopping',
      'first-sidecar stopped',
    ]);
  });
});
