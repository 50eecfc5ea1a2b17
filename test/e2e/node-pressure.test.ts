// Node-pressure eviction under real pressure, safely bounded: the agent's
// thresholds are set relative to what this node measures when the test
// starts, and its nodefs is a small loop-mounted filesystem. A BestEffort
// pod filling a Memory-medium emptyDir, a pod filling a disk emptyDir and a
// pod forking processes each cross a threshold; each is evicted, the node
// shows the condition and its taint, and the Guaranteed and Burstable pods
// beside them are not touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStats, pidStats } from '../../agent/stats/index.ts';
import {
  applyManifest,
  eventsOf,
  smallFilesystem,
  startTestCluster,
  waitForJsonPath,
  type SmallFilesystem,
  type TestCluster,
} from '../../lab/testbed/index.ts';

const Mi = 2 ** 20;
/** how far below today's figures the thresholds sit, and how far past them the pressure pods go */
const MEMORY_MARGIN = 1536 * Mi;
const MEMORY_FILL_MIB = 2560;
const PID_MARGIN = 1500;
const PID_FORKS = 2500;
const NODEFS_MIB = 160;

let c: TestCluster;
let nodefs: SmallFilesystem | undefined;

beforeAll(async () => {
  // the agent's root on a filesystem of its own: its nodefs
  nodefs = await smallFilesystem('press', NODEFS_MIB);
  const memory = await memoryStats(1);
  const pids = await pidStats();
  c = await startTestCluster('press', 209, {
    agentRootDir: nodefs.path,
    agentConfig: {
      evictionHard: {
        'memory.available': `${Math.floor((memory.availableBytes - MEMORY_MARGIN) / 1024)}Ki`,
        'nodefs.available': '50%',
        'pid.available': String(pids.maxPID - pids.processes - PID_MARGIN),
      },
      evictionPressureTransitionPeriod: '10s',
    },
  });
  await applyManifest(
    c,
    `
apiVersion: v1
kind: Pod
metadata: {name: guaranteed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: busybox, command: [sleep, '3600'], resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 50m, memory: 64Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: burstable}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: busybox, command: [sleep, '3600'], resources: {requests: {memory: 16Mi}}}
`,
  );
  await waitForJsonPath(c, ['pod', 'guaranteed'], '{.status.phase}', 'Running');
  await waitForJsonPath(c, ['pod', 'burstable'], '{.status.phase}', 'Running');
}, 180_000);

afterAll(async () => {
  await c?.teardown();
  await nodefs?.remove();
});

/** A BestEffort pod that writes `mib` MiB into an emptyDir (of this spec) and then idles. */
const fillerPod = (name: string, container: string, mib: number, emptyDir: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: ${container}
    image: busybox
    command: [sh, -c, 'dd if=/dev/zero of=/fill/data bs=1M count=${mib} && sleep 3600']
    volumeMounts: [{name: fill, mountPath: /fill}]
  volumes: [{name: fill, emptyDir: ${emptyDir}}]
`;

const condition = (type: string) => `{.status.conditions[?(@.type=="${type}")].status}`;

/** The pod was evicted as the kubelet does it: Failed, Evicted, DisruptionTarget, an Event. */
async function expectEvicted(pod: string, resource: string): Promise<void> {
  await waitForJsonPath(c, ['pod', pod], '{.status.phase}/{.status.reason}', 'Failed/Evicted', 60_000);
  const message = await c.kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.message}');
  expect(message).toMatch(new RegExp(`^The node was low on resource: ${resource}\\. Threshold quantity: \\S+, available: \\S+\\. `));
  expect(await c.kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.conditions[?(@.type=="DisruptionTarget")].reason}')).toBe('TerminationByKubelet');
  expect(await eventsOf(c, pod)).toContain(`Evicted: ${message}`);
}

/** The condition shows with its taint while the pressure lasts, and both go after the transition period. */
async function expectPressureComesAndGoes(type: string, taint: string): Promise<void> {
  await waitForJsonPath(c, ['node', c.nodeName], condition(type), 'True', 30_000);
  await waitForJsonPath(c, ['node', c.nodeName], '{.spec.taints[*].key}', new RegExp(taint.replace(/\//g, '\\/')), 30_000);
  await waitForJsonPath(c, ['node', c.nodeName], condition(type), 'False', 60_000);
  await waitForJsonPath(c, ['node', c.nodeName], '{.spec.taints[*].key}', new RegExp(`^(?!.*${taint.replace(/\//g, '\\/')})`), 30_000);
}

describe('node-pressure eviction', () => {
  it('evicts the BestEffort pod filling memory, sets MemoryPressure and its taint, then clears them', async () => {
    await applyManifest(c, fillerPod('memory-hog', 'hog', MEMORY_FILL_MIB, '{medium: Memory}'));
    await expectEvicted('memory-hog', 'memory');
    expect(await c.kubectl('get', 'pod', 'memory-hog', '-o', 'jsonpath={.status.message}')).toMatch(
      /Container hog was using \S+, request is 0, has larger consumption of memory\. $/,
    );
    await expectPressureComesAndGoes('MemoryPressure', 'node.kubernetes.io/memory-pressure');
    expect(await eventsOf(c, c.nodeName)).toMatch(/NodeHasInsufficientMemory[\s\S]*NodeHasSufficientMemory/);
  });

  it('evicts the pod filling the node filesystem, refuses new pods while DiskPressure lasts, then clears it', async () => {
    await applyManifest(c, fillerPod('disk-filler', 'filler', Math.floor(NODEFS_MIB * 0.6), '{}'));
    await waitForJsonPath(c, ['node', c.nodeName], condition('DiskPressure'), 'True', 60_000);
    // a pod bound here while the condition lasts is refused at admission (bound directly: the taint keeps the scheduler away)
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: latecomer}
spec:
  nodeName: ${c.nodeName}
  containers: [{name: app, image: busybox, command: [sleep, '3600']}]
`,
    );
    await waitForJsonPath(c, ['pod', 'latecomer'], '{.status.phase}/{.status.reason}', 'Failed/Evicted', 30_000);
    expect(await c.kubectl('get', 'pod', 'latecomer', '-o', 'jsonpath={.status.message}')).toBe('The node had condition: [DiskPressure]. ');
    await expectEvicted('disk-filler', 'ephemeral-storage');
    await expectPressureComesAndGoes('DiskPressure', 'node.kubernetes.io/disk-pressure');
  });

  it('evicts the pod forking processes and sets PIDPressure, then clears it', async () => {
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: forker}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: forker
    image: busybox
    command: [sh, -c, 'i=0; while [ $i -lt ${PID_FORKS} ]; do sleep 3600 & i=$((i+1)); done; wait']
`,
    );
    await expectEvicted('forker', 'pids');
    await expectPressureComesAndGoes('PIDPressure', 'node.kubernetes.io/pid-pressure');
  });

  it('left the Guaranteed and Burstable pods running, never restarted', async () => {
    for (const pod of ['guaranteed', 'burstable']) {
      expect(await c.kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}')).toBe('Running 0');
      expect(await eventsOf(c, pod)).not.toContain('Evicted');
    }
  });
});
