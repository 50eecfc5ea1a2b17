// Resources on a real node: each pod gets a cgroup in the kubelet's QoS
// hierarchy with its limits, a container past its memory limit is
// OOM-killed and reported so, the stats summary (through the API server's
// nodes/proxy) tells what the node and its pods use, and the security
// context (users, groups, capabilities, no_new_privs, seccomp, sysctls,
// runAsNonRoot) reaches the container.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PodCgroups } from '../../agent/index.ts';
import { applyManifest, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;
let cgroups: PodCgroups;

beforeAll(async () => {
  c = await startTestCluster('res', 213);
  cgroups = await PodCgroups.detect(`skiff-test-${c.node.bridge}`);
});

afterAll(async () => {
  await c?.teardown();
});

/** The memory limit of a pod-level cgroup, read from the kernel. */
async function memoryLimit(cgroup: string): Promise<number> {
  const file = cgroups.version === 2 ? join('/sys/fs/cgroup', cgroup, 'memory.max') : join('/sys/fs/cgroup/memory', cgroup, 'memory.limit_in_bytes');
  return Number((await readFile(file, 'utf8')).trim());
}

describe('pod resources on a real node', () => {
  it("puts each pod in its QoS class cgroup, with the pod's memory limit", async () => {
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: fixed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: busybox, command: [sleep, '3600'], resources: {requests: {cpu: 100m, memory: 48Mi}, limits: {cpu: 100m, memory: 48Mi}}}
  - {name: side, image: busybox, command: [sleep, '3600'], resources: {requests: {cpu: 50m, memory: 16Mi}, limits: {cpu: 50m, memory: 16Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: loose}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: app, image: busybox, command: [sleep, '3600']}]
`,
    );
    await waitForJsonPath(c, ['pod', 'fixed'], '{.status.phase} {.status.qosClass}', 'Running Guaranteed');
    await waitForJsonPath(c, ['pod', 'loose'], '{.status.phase} {.status.qosClass}', 'Running BestEffort');
    const uid = (name: string) => c.kubectl('get', 'pod', name, '-o', 'jsonpath={.metadata.uid}');
    const fixed = join('/', `skiff-test-${c.node.bridge}`, 'kubepods', `pod${await uid('fixed')}`);
    expect(await memoryLimit(fixed)).toBe(64 * 2 ** 20);
    expect((await cgroups.usage(fixed))?.processes).toBeGreaterThanOrEqual(3);
    const loose = join('/', `skiff-test-${c.node.bridge}`, 'kubepods', 'besteffort', `pod${await uid('loose')}`);
    expect((await cgroups.usage(loose))?.processes).toBeGreaterThanOrEqual(2);
  });

  it('reports OOMKilled for a container that goes past its memory limit', async () => {
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: greedy}
spec:
  restartPolicy: Never
  containers:
  - {name: app, image: busybox, command: [sh, -c, 'head -c 200m /dev/zero | tail'], resources: {limits: {memory: 32Mi}}}
`,
    );
    await waitForJsonPath(c, ['pod', 'greedy'], '{.status.phase}', 'Failed', 60_000);
    expect(
      await c.kubectl(
        'get',
        'pod',
        'greedy',
        '-o',
        'jsonpath={.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}',
      ),
    ).toBe('OOMKilled 137');
  });

  it("serves the stats summary through nodes/proxy, with the node's and each pod's usage", async () => {
    type Summary = {
      node: {
        nodeName: string;
        memory: { availableBytes: number };
        fs: { capacityBytes: number };
        rlimit: { maxpid: number; curproc: number };
        cpu: { usageCoreNanoSeconds: number };
      };
      pods: {
        podRef: { name: string };
        memory: { workingSetBytes: number };
        process_stats: { process_count: number };
        cpu?: { usageNanoCores?: number };
        containers: { name: string; memory: { workingSetBytes: number } }[];
      }[];
    };
    const get = async () => JSON.parse(await c.kubectl('get', '--raw', `/api/v1/nodes/${c.nodeName}/proxy/stats/summary`)) as Summary;
    await get();
    // the second summary has CPU rates, from the first one's samples
    const s = await get();
    expect(s.node.nodeName).toBe(c.nodeName);
    expect(s.node.memory.availableBytes).toBeGreaterThan(0);
    expect(s.node.fs.capacityBytes).toBeGreaterThan(0);
    expect(s.node.rlimit.curproc).toBeGreaterThan(0);
    expect(s.node.rlimit.maxpid).toBeGreaterThan(s.node.rlimit.curproc);
    expect(s.node.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
    const fixed = s.pods.find((p) => p.podRef.name === 'fixed');
    expect(fixed?.containers.map((x) => x.name).sort()).toEqual(['app', 'side']);
    expect(fixed?.memory.workingSetBytes).toBeGreaterThan(0);
    expect(fixed?.process_stats.process_count).toBeGreaterThanOrEqual(3);
    expect(fixed?.cpu?.usageNanoCores).toBeGreaterThanOrEqual(0);
  });

  it("runs a container with the pod's security context", async () => {
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: confined}
spec:
  restartPolicy: Never
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    supplementalGroups: [4000]
    fsGroup: 2000
    seccompProfile: {type: RuntimeDefault}
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: '80'}]
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'id -u; id -g; id -G; grep -E "^(NoNewPrivs|Seccomp|CapBnd):" /proc/self/status; cat /proc/sys/net/ipv4/ip_unprivileged_port_start']
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
`,
    );
    await waitForJsonPath(c, ['pod', 'confined'], '{.status.phase}', 'Succeeded');
    const lines = (await c.kubectl('logs', 'confined'))
      .trim()
      .split('\n')
      .map((l) => l.replace(/\s+/g, ' '));
    expect(lines.slice(0, 2)).toEqual(['1000', '3000']);
    expect(lines[2]?.split(' ').sort()).toEqual(['2000', '3000', '4000']);
    // all capabilities dropped but NET_BIND_SERVICE (bit 10); seccomp mode 2 is a filter
    expect(lines.slice(3)).toEqual(['CapBnd: 0000000000000400', 'NoNewPrivs: 1', 'Seccomp: 2', '80']);
  });

  it('refuses to run a root image as runAsNonRoot, saying why', async () => {
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  securityContext: {runAsNonRoot: true}
  containers: [{name: app, image: busybox, command: [sleep, '3600']}]
`,
    );
    const uid = await c.kubectl('get', 'pod', 'nonroot', '-o', 'jsonpath={.metadata.uid}');
    await waitForJsonPath(c, ['pod', 'nonroot'], '{.status.containerStatuses[0].state.waiting.reason}', 'CreateContainerConfigError');
    expect(await c.kubectl('get', 'pod', 'nonroot', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.message}')).toBe(
      `container has runAsNonRoot and image will run as root (pod: "nonroot_default(${uid})", container: app)`,
    );
  });
});
