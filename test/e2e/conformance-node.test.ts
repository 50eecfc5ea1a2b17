// Conformance tests of the node, in our words: each title is the upstream
// test's name (test/conformance/testdata/conformance.yaml) so the coverage
// can be counted; each body checks what that test checks, with kubectl and
// busybox against a real node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadKubeconfig } from '../../apimachinery/index.ts';
import { applyManifest, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('conf', 223);
}, 120_000);
afterAll(async () => {
  await c?.teardown();
}, 60_000);

/** Runs a pod to completion and returns its log. */
async function logsOf(name: string, spec: string): Promise<string> {
  await applyManifest(c, `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  restartPolicy: Never\n${spec}`);
  await waitForJsonPath(c, ['pod', name], '{.status.phase}', /^(Succeeded|Failed)$/, 60_000);
  expect(await c.kubectl('get', 'pod', name, '-o', 'jsonpath={.status.phase}')).toBe('Succeeded');
  return c.kubectl('logs', name);
}

describe('[sig-node] Variable Expansion', () => {
  it('[sig-node] Variable Expansion should allow composing env vars into new env vars [NodeConformance] [Conformance]', async () => {
    const log = await logsOf(
      'compose-env',
      `  containers:
  - name: c
    image: busybox
    command: [sh, -c, env]
    env:
    - {name: FOO, value: foo-value}
    - {name: BAR, value: bar-value}
    - {name: FOOBAR, value: '$(FOO);;$(BAR)'}
    - {name: ESCAPED, value: '$$(FOO)'}
    - {name: UNKNOWN, value: '$(NOT_DEFINED)'}`,
    );
    expect(log.split('\n')).toEqual(expect.arrayContaining(['FOOBAR=foo-value;;bar-value', 'ESCAPED=$(FOO)', 'UNKNOWN=$(NOT_DEFINED)']));
  });

  it("[sig-node] Variable Expansion should allow substituting values in a container's command [NodeConformance] [Conformance]", async () => {
    const log = await logsOf(
      'expand-command',
      `  containers:
  - name: c
    image: busybox
    command: [sh, -c, 'echo command $(TEST_VAR)']
    env: [{name: TEST_VAR, value: test-value}]`,
    );
    expect(log.trim()).toBe('command test-value');
  });

  it("[sig-node] Variable Expansion should allow substituting values in a container's args [NodeConformance] [Conformance]", async () => {
    const log = await logsOf(
      'expand-args',
      `  containers:
  - name: c
    image: busybox
    command: [sh, -c]
    args: ['echo args $(TEST_VAR)']
    env: [{name: TEST_VAR, value: test-value}]`,
    );
    expect(log.trim()).toBe('args test-value');
  });
});

describe('[sig-node] Downward API', () => {
  it("[sig-node] Downward API should provide container's limits.cpu/memory and requests.cpu/memory as env vars [NodeConformance] [Conformance]", async () => {
    const log = await logsOf(
      'downward-resources',
      `  containers:
  - name: c
    image: busybox
    command: [sh, -c, env]
    resources: {requests: {cpu: 250m, memory: 32Mi}, limits: {cpu: 1250m, memory: 64Mi}}
    env:
    - {name: CPU_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
    - {name: MEMORY_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.memory}}}
    - {name: CPU_REQUEST, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
    - {name: MEMORY_REQUEST, valueFrom: {resourceFieldRef: {resource: requests.memory, divisor: 1Mi}}}`,
    );
    expect(log.split('\n')).toEqual(expect.arrayContaining(['CPU_LIMIT=2', `MEMORY_LIMIT=${64 * 2 ** 20}`, 'CPU_REQUEST=250', 'MEMORY_REQUEST=32']));
  });

  it('[sig-node] Downward API should provide default limits.cpu/memory from node allocatable [NodeConformance] [Conformance]', async () => {
    const log = await logsOf(
      'downward-allocatable',
      `  containers:
  - name: c
    image: busybox
    command: [sh, -c, env]
    env:
    - {name: CPU_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}}
    - {name: MEMORY_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.memory}}}`,
    );
    const allocatable = JSON.parse(await c.kubectl('get', 'node', c.nodeName, '-o', 'jsonpath={.status.allocatable}')) as { cpu: string; memory: string };
    const cpuMilli = allocatable.cpu.endsWith('m') ? Number(allocatable.cpu.slice(0, -1)) : Number(allocatable.cpu) * 1000;
    expect(log).toContain(`CPU_LIMIT=${cpuMilli}\n`);
    expect(log).toMatch(/MEMORY_LIMIT=[1-9]\d+\n/);
  });

  it("[sig-storage] Downward API volume should provide container's cpu limit [NodeConformance] [Conformance]", async () => {
    const log = await logsOf(
      'downward-volume-cpu',
      `  volumes: [{name: info, downwardAPI: {items: [{path: cpu_limit, resourceFieldRef: {containerName: c, resource: limits.cpu, divisor: 1m}}]}}]
  containers:
  - name: c
    image: busybox
    command: [cat, /info/cpu_limit]
    resources: {limits: {cpu: 500m}}
    volumeMounts: [{name: info, mountPath: /info}]`,
    );
    expect(log.trim()).toBe('500');
  });
});

/** GETs `path` as a WebSocket (the ws client, with the cluster admin's certificate) and reads the messages until the close: the handshake's status and protocol, and each data message. */
async function webSocketGet(path: string, protocol: string): Promise<{ status: string; protocol: string; messages: Buffer[] }> {
  const cfg = await loadKubeconfig(c.kubeconfig);
  const url = new URL(path, cfg.server.replace(/^https:/, 'wss:'));
  const ws = new WebSocket(url, protocol, { ca: cfg.ca, cert: cfg.cert, key: cfg.key });
  let status = '';
  ws.on('upgrade', (res) => (status = `HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}`));
  const messages: Buffer[] = [];
  ws.on('message', (data) => messages.push(Buffer.from(data as Buffer)));
  await new Promise<void>((resolve, reject) => {
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
  return { status, protocol: ws.protocol, messages };
}

describe('[sig-node] Pods', () => {
  it('[sig-node] Pods should support retrieving logs from the container over websockets [NodeConformance] [Conformance]', async () => {
    await logsOf('ws-logs', `  containers: [{name: c, image: busybox, command: [sh, -c, 'echo container is alive; echo and well']}]`);
    for (const protocol of ['binary.k8s.io', 'base64.binary.k8s.io']) {
      const r = await webSocketGet('/api/v1/namespaces/default/pods/ws-logs/log?container=c', protocol);
      expect(r.status).toBe('HTTP/1.1 101 Switching Protocols');
      expect(r.protocol).toBe(protocol);
      const text = r.messages.map((m) => (protocol === 'binary.k8s.io' ? m.toString() : Buffer.from(m.toString(), 'base64').toString())).join('');
      expect(text).toBe('container is alive\nand well\n');
    }
  });

  it('[sig-node] Pods should allow activeDeadlineSeconds to be updated [NodeConformance] [Conformance]', async () => {
    await applyManifest(c, `apiVersion: v1\nkind: Pod\nmetadata: {name: deadline}\nspec:\n  containers: [{name: c, image: busybox, command: [sleep, '600']}]`);
    await waitForJsonPath(c, ['pod', 'deadline'], '{.status.phase}', 'Running');
    await c.kubectl('patch', 'pod', 'deadline', '--type=merge', '-p', '{"spec":{"activeDeadlineSeconds":5}}');
    await waitForJsonPath(c, ['pod', 'deadline'], '{.status.phase}', 'Failed', 60_000);
    expect(await c.kubectl('get', 'pod', 'deadline', '-o', 'jsonpath={.status.reason}')).toBe('DeadlineExceeded');
  }, 90_000);
});

describe('[sig-node] Ephemeral Containers', () => {
  it('[sig-node] Ephemeral Containers [NodeConformance] will start an ephemeral container in an existing pod [Conformance]', async () => {
    await applyManifest(
      c,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: debug-target}\nspec:\n  containers: [{name: c, image: busybox, command: [sleep, '600']}]`,
    );
    await waitForJsonPath(c, ['pod', 'debug-target'], '{.status.phase}', 'Running');
    // kubectl debug patches pods/ephemeralcontainers and returns
    await c.kubectl('debug', 'debug-target', '--profile=general', '--image=busybox', '--container=debugger', '--', 'sh', '-c', 'echo debugging here');
    await waitForJsonPath(c, ['pod', 'debug-target'], '{.status.ephemeralContainerStatuses[0].state.terminated.reason}', 'Completed', 60_000);
    expect((await c.kubectl('logs', 'debug-target', '-c', 'debugger')).trim()).toBe('debugging here');
    // with --target it shares the target's process namespace: it sees the target's sleep
    await c.kubectl(
      'debug',
      'debug-target',
      '--profile=general',
      '--image=busybox',
      '--target=c',
      '--container=peeker',
      '--',
      'sh',
      '-c',
      'ps -o comm | grep -c sleep',
    );
    await waitForJsonPath(c, ['pod', 'debug-target'], '{.status.ephemeralContainerStatuses[1].state.terminated.reason}', 'Completed', 60_000);
    expect((await c.kubectl('logs', 'debug-target', '-c', 'peeker')).trim()).toBe('1');
    // the pod's own container ran on untouched, and the ephemeral one is not restarted
    expect(await c.kubectl('get', 'pod', 'debug-target', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}')).toBe('Running 0');
    // ephemeral containers only grow: one may not be changed, and one may not take a port
    const changed = await c.kubectlResult(
      ['replace', '--raw', '/api/v1/namespaces/default/pods/debug-target/ephemeralcontainers', '-f', '-'],
      JSON.stringify({
        ...JSON.parse(await c.kubectl('get', 'pod', 'debug-target', '-o', 'json')),
        spec: {
          ...JSON.parse(await c.kubectl('get', 'pod', 'debug-target', '-o', 'jsonpath={.spec}')),
          ephemeralContainers: [{ name: 'other', image: 'busybox' }],
        },
      }),
    );
    expect(changed.stderr).toContain('existing ephemeral containers may not be changed');
  });
});

describe('[sig-storage] EmptyDir volumes', () => {
  it('[sig-storage] EmptyDir volumes should support (non-root,0777,default) [LinuxOnly] [NodeConformance] [Conformance]', async () => {
    const log = await logsOf(
      'emptydir-nonroot',
      `  securityContext: {runAsUser: 1001}
  volumes: [{name: scratch, emptyDir: {}}]
  containers:
  - name: c
    image: busybox
    command: [sh, -c, 'stat -c %a /scratch && echo written > /scratch/f && cat /scratch/f']
    volumeMounts: [{name: scratch, mountPath: /scratch}]`,
    );
    expect(log.trim().split('\n')).toEqual(['777', 'written']);
  });

  it('[sig-storage] EmptyDir volumes volume on tmpfs should have the correct mode [LinuxOnly] [NodeConformance] [Conformance]', async () => {
    const log = await logsOf(
      'emptydir-tmpfs',
      `  volumes: [{name: scratch, emptyDir: {medium: Memory}}]
  containers:
  - name: c
    image: busybox
    command: [sh, -c, 'stat -c %a /scratch && grep " /scratch " /proc/mounts | cut -d" " -f3']
    volumeMounts: [{name: scratch, mountPath: /scratch}]`,
    );
    expect(log.trim().split('\n')).toEqual(['777', 'tmpfs']);
  });
});

describe('[sig-node] Kubelet', () => {
  it('[sig-node] Kubelet when scheduling a busybox Pod with hostAliases should write entries to /etc/hosts [NodeConformance] [Conformance]', async () => {
    const log = await logsOf(
      'host-aliases',
      `  hostAliases: [{ip: 123.45.67.89, hostnames: [foo.local, bar.local]}]
  containers: [{name: c, image: busybox, command: [cat, /etc/hosts]}]`,
    );
    expect(log).toContain('# Entries added by HostAliases.\n123.45.67.89\tfoo.local\tbar.local\n');
  });
});

describe('[sig-node] Sysctls', () => {
  it('[sig-node] Sysctls [LinuxOnly] [NodeConformance] should reject invalid sysctls [MinimumKubeletVersion:1.21] [Conformance]', async () => {
    const r = await c.kubectlResult(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'bad-sysctls' },
        spec: {
          securityContext: {
            sysctls: [
              { name: 'foo-', value: 'bar' },
              { name: 'kernel.shmmax', value: '100000000' },
              { name: 'safe-and-unsafe', value: '100000000' },
              { name: 'bar..', value: '42' },
            ],
          },
          containers: [{ name: 'c', image: 'busybox' }],
        },
      }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.securityContext.sysctls[0].name: Invalid value: "foo-"');
    expect(r.stderr).toContain('spec.securityContext.sysctls[3].name: Invalid value: "bar.."');
    expect(r.stderr).not.toContain('sysctls[1]');
    expect(r.stderr).not.toContain('sysctls[2]');
  });
});

describe('[sig-storage] Secrets', () => {
  it('[sig-storage] Secrets should be consumable from pods in volume as non-root with defaultMode and fsGroup set [LinuxOnly] [NodeConformance] [Conformance]', async () => {
    await c.kubectl('create', 'secret', 'generic', 'for-group', '--from-literal=data-1=value-1');
    const log = await logsOf(
      'secret-fsgroup',
      `  securityContext: {runAsUser: 1000, fsGroup: 1001}
  volumes: [{name: s, secret: {secretName: for-group, defaultMode: 0400}}]
  containers:
  - name: c
    image: busybox
    command: [sh, -c, 'stat -L -c "%a %g" /s/data-1 && cat /s/data-1']
    volumeMounts: [{name: s, mountPath: /s}]`,
    );
    expect(log.trim().split('\n')).toEqual(['440 1001', 'value-1']);
  });
});

describe('[sig-storage] ConfigMap', () => {
  it('starts a pod whose optional configMap volume names a key the ConfigMap lacks, without the file, and writes it when the key appears', async () => {
    await c.kubectl('create', 'configmap', 'partial', '--from-literal=present=yes');
    await applyManifest(
      c,
      `apiVersion: v1
kind: Pod
metadata: {name: optional-items}
spec:
  volumes: [{name: cfg, configMap: {name: partial, optional: true, items: [{key: present, path: present}, {key: later, path: later}]}}]
  containers:
  - name: c
    image: busybox
    command: [sh, -c, 'while true; do ls /cfg | tr "\\n" " "; echo; sleep 1; done']
    volumeMounts: [{name: cfg, mountPath: /cfg}]`,
    );
    await waitForJsonPath(c, ['pod', 'optional-items'], '{.status.phase}', 'Running');
    await c.kubectl('patch', 'configmap', 'partial', '--type=merge', '-p', '{"data":{"later":"now"}}');
    await waitForJsonPath(c, ['pod', 'optional-items'], '{.status.phase}', 'Running');
    let log = '';
    for (let i = 0; i < 60 && !log.includes('later present'); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      log = await c.kubectl('logs', 'optional-items');
    }
    expect(log.split('\n')[0]?.trim()).toBe('present');
    expect(log).toContain('later present');
  }, 90_000);
});
