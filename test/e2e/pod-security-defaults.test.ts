// PodSecurity's cluster-wide defaults and exemptions with the real kubectl:
// from an AdmissionConfiguration file (--admission-control-config-file), and
// from the file --pod-security-default writes for the operator.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestApiServer } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

const ADMISSION_CONFIG = `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: baseline, enforce-version: latest}
    exemptions: {namespaces: [ops], usernames: [], runtimeClasses: []}
`;

const api = useTestApiServer(
  'sk-psa-defaults-',
  (dir) => ['--disable-scheduler', '--disable-controllers', '--admission-control-config-file', join(dir, 'admission.yaml')],
  (dir) => writeFile(join(dir, 'admission.yaml'), ADMISSION_CONFIG),
);

const hostNetworkPod = (namespace: string) => `
apiVersion: v1
kind: Pod
metadata: {name: on-host, namespace: ${namespace}}
spec:
  hostNetwork: true
  containers: [{name: c, image: busybox}]
`;

describe('PodSecurity defaults', () => {
  it('enforces the configured default where a namespace says nothing, not in an exempt namespace, and a namespace label overrides it', async () => {
    const refused = await api.kubectlResult(['apply', '-f', '-'], hostNetworkPod('default'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('pods "on-host" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork)');
    await api.kubectl('create', 'namespace', 'ops');
    expect((await api.kubectlResult(['apply', '-f', '-'], hostNetworkPod('ops'))).code).toBe(0);
    await api.kubectl('create', 'namespace', 'lab');
    await api.kubectl('label', 'namespace', 'lab', 'pod-security.kubernetes.io/enforce=privileged');
    expect((await api.kubectlResult(['apply', '-f', '-'], hostNetworkPod('lab'))).code).toBe(0);
  });

  it('--pod-security-default writes an AdmissionConfiguration for the operator and enforces it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-psa-flag-'));
    const server = await startTestApiServer(dir, ['--disable-scheduler', '--disable-controllers', '--pod-security-default', 'baseline']);
    try {
      const refused = await server.kubectlResult(['apply', '-f', '-'], hostNetworkPod('default'));
      expect(refused.stderr).toContain('violates PodSecurity "baseline:latest": host namespaces (hostNetwork)');
      const written = await readFile(join(dir, 'admission-config.yaml'), 'utf8');
      expect(written).toMatch(/kind: PodSecurityConfiguration[\s\S]*enforce: baseline/);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
