// RuntimeClass on a real node: a pod of a class whose handler is runc runs
// its sandbox under that runtime of containerd's, with the class's overhead
// and node selector; a pod naming a class that does not exist is refused by
// admission, one whose class names a handler containerd lacks fails its
// sandbox with the runtime's reason in an Event; the handler cannot change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifest, eventsOf, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('rtc', 229);
});

afterAll(async () => {
  await c?.teardown();
});

const CLASSES = `
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: fast}
handler: runc
overhead: {podFixed: {cpu: 10m, memory: 16Mi}}
scheduling: {nodeSelector: {kubernetes.io/os: linux}}
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: absent}
handler: missing
`;

const pod = (name: string, runtimeClassName: string, extra = '') => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  runtimeClassName: ${runtimeClassName}
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, command: [sleep, '3600']}]
${extra}`;

describe('RuntimeClass', () => {
  it("runs a pod's sandbox under its class's handler, with the class's overhead and node selector", async () => {
    await applyManifest(c, CLASSES);
    expect(await c.kubectl('get', 'runtimeclass')).toMatch(/^fast\s+runc\s+/m);
    await applyManifest(c, pod('on-runc', 'fast'));
    await waitForJsonPath(c, ['pod', 'on-runc'], '{.status.phase}', 'Running');
    expect(JSON.parse(await c.kubectl('get', 'pod', 'on-runc', '-o', 'jsonpath={.spec.overhead}'))).toEqual({ cpu: '10m', memory: '16Mi' });
    expect(await c.kubectl('get', 'pod', 'on-runc', '-o', 'jsonpath={.spec.nodeSelector}')).toBe('{"kubernetes.io/os":"linux"}');
    const [sandbox] = await c.node.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.name': 'on-runc' } });
    expect(sandbox?.runtimeHandler).toBe('runc');
  });

  it('refuses a pod naming a class that does not exist, or an overhead that is not its class', async () => {
    const unknown = await c.kubectlResult(['apply', '-f', '-'], pod('nowhere', 'no-such-class'));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('pods "nowhere" is forbidden: pod rejected: RuntimeClass "no-such-class" not found');
    const overhead = await c.kubectlResult(['apply', '-f', '-'], pod('heavy', 'fast', '  overhead: {cpu: 1}\n'));
    expect(overhead.code).not.toBe(0);
    expect(overhead.stderr).toContain(`pods "heavy" is forbidden: pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead`);
  });

  it('fails the sandbox of a class whose handler the runtime lacks, with the reason in an Event', async () => {
    await applyManifest(c, pod('unhandled', 'absent'));
    await expect
      .poll(() => eventsOf(c, 'unhandled'), { timeout: 30_000 })
      .toMatch(/^FailedCreatePodSandBox: Failed to create pod sandbox: .*no runtime for "missing" is configured/m);
    expect(await c.kubectl('get', 'pod', 'unhandled', '-o', 'jsonpath={.status.phase}')).toBe('Pending');
  });

  it('keeps the handler as it was made', async () => {
    const changed = await c.kubectlResult(['patch', 'runtimeclass', 'fast', '--type=merge', '-p', '{"handler":"crun"}']);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain('handler: Invalid value: "crun": field is immutable');
  });
});
