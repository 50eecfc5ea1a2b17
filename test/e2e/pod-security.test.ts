// PodSecurity admission with the real kubectl, written as an attacker: a pod
// that takes the node's namespaces, its root filesystem, root and SYS_ADMIN
// is refused in a restricted namespace with Kubernetes' words (dry-run too);
// a pod that keeps to the standard runs there; warn mode warns and admits; a
// Deployment of refused pods is warned of and its pods never start; and a
// privileged pod runs where policy allows it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifest, eventsOf, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('psa', 225);
  for (const [ns, label] of [
    ['locked', 'pod-security.kubernetes.io/enforce=restricted'],
    ['warned', 'pod-security.kubernetes.io/warn=baseline'],
  ] as const) {
    await c.kubectl('create', 'namespace', ns);
    await c.kubectl('label', 'namespace', ns, label);
  }
});

afterAll(async () => {
  await c?.teardown();
});

const attacker = (namespace: string) => `
apiVersion: v1
kind: Pod
metadata: {name: pwn, namespace: ${namespace}}
spec:
  hostPID: true
  hostNetwork: true
  volumes: [{name: host, hostPath: {path: /}}]
  containers:
  - name: pwn
    image: busybox
    command: [sleep, '3600']
    securityContext: {runAsUser: 0, privileged: true, capabilities: {add: [SYS_ADMIN]}}
    volumeMounts: [{name: host, mountPath: /host}]
`;

const REFUSAL =
  'pods "pwn" is forbidden: violates PodSecurity "restricted:latest": ' +
  'allowPrivilegeEscalation != false (container "pwn" must set securityContext.allowPrivilegeEscalation=false), ' +
  'unrestricted capabilities (container "pwn" must set securityContext.capabilities.drop=["ALL"]; container "pwn" must not include "SYS_ADMIN" in securityContext.capabilities.add), ' +
  'host namespaces (hostNetwork, hostPID), ' +
  'privileged (container "pwn" must not set securityContext.privileged=true), ' +
  'restricted volume types (volume "host" uses restricted volume type "hostPath"), ' +
  'runAsNonRoot != true (pod or container "pwn" must set securityContext.runAsNonRoot=true), ' +
  'runAsUser=0 (container "pwn" must not set runAsUser=0), ' +
  'seccompProfile (pod or container "pwn" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

describe('PodSecurity admission', () => {
  it("refuses the node-escaping pod in a restricted namespace with Kubernetes' message, dry-run or not, and stores nothing", async () => {
    for (const args of [
      ['apply', '-f', '-'],
      ['apply', '--dry-run=server', '-f', '-'],
    ]) {
      const r = await c.kubectlResult(args, attacker('locked'));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`Error from server (Forbidden): error when creating "STDIN": ${REFUSAL}`);
    }
    expect((await c.kubectlResult(['get', 'pod', 'pwn', '-n', 'locked'])).stderr).toMatch(/NotFound/);
  });

  it('runs a pod that keeps to the restricted standard there', async () => {
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: tidy, namespace: locked}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: busybox
    command: [sleep, '3600']
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`,
    );
    await waitForJsonPath(c, ['pod', 'tidy', '-n', 'locked'], '{.status.phase}', 'Running');
  });

  it('admits with a warning where the namespace only warns', async () => {
    const r = await c.kubectlResult(['apply', '-f', '-'], attacker('warned').replace('  hostPID: true\n', ''));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'Warning: would violate PodSecurity "baseline:latest": non-default capabilities (container "pwn" must not include "SYS_ADMIN" in securityContext.capabilities.add), host namespaces (hostNetwork), hostPath volumes (volume "host"), privileged (container "pwn" must not set securityContext.privileged=true)',
    );
    // a privileged pod runs where policy allows it: its sandbox is privileged too
    await waitForJsonPath(c, ['pod', 'pwn', '-n', 'warned'], '{.status.phase}', 'Running');
    await c.kubectl('delete', 'pod', 'pwn', '-n', 'warned', '--grace-period=0');
  });

  it('warns of a Deployment whose pods the namespace refuses, and its ReplicaSet says why no pod starts', async () => {
    const r = await c.kubectlResult(['create', 'deployment', 'web', '-n', 'locked', '--image=busybox', '--', 'sleep', '3600']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "busybox"');
    const rs = await waitForJsonPath(c, ['replicaset', '-n', 'locked', '-l', 'app=web'], '{.items[0].metadata.name}', /^web-/);
    await expect
      .poll(async () => c.kubectl('get', 'events', '-n', 'locked', '--field-selector', `involvedObject.name=${rs}`, '-o', 'jsonpath={.items[*].message}'), {
        timeout: 30_000,
      })
      .toMatch(/Error creating: pods "web-[^"]+" is forbidden: violates PodSecurity "restricted:latest"/);
    expect(await c.kubectl('get', 'pods', '-n', 'locked', '-l', 'app=web', '-o', 'name')).toBe('');
    expect(await eventsOf(c, 'tidy')).not.toMatch(/Failed/);
  });
});
