// LimitRanger with the real kubectl: a namespace's LimitRange defaults its
// pods' requests and limits, refuses pods and claims outside its bounds with
// Kubernetes' words, and is itself defaulted and validated as the API does.
import { describe, expect, it } from 'vitest';
import { useTestApiServer } from '../harness/api-server.ts';

const api = useTestApiServer('sk-limits-', ['--disable-scheduler', '--disable-controllers']);

describe('LimitRange', () => {
  it("defaults a pod's requests and limits, and refuses one over the max", async () => {
    await api.kubectl('create', 'namespace', 'capped');
    const applied = await api.kubectlResult(
      ['apply', '-f', '-'],
      `
apiVersion: v1
kind: LimitRange
metadata: {name: bounds, namespace: capped}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    max: {memory: 1Gi}
  - type: PersistentVolumeClaim
    max: {storage: 5Gi}
`,
    );
    expect(applied.code, applied.stderr).toBe(0);
    // the API fills in defaultRequest from default
    expect(await api.kubectl('get', 'limitrange', 'bounds', '-n', 'capped', '-o', 'jsonpath={.spec.limits[0].defaultRequest}')).toBe(
      '{"cpu":"500m","memory":"256Mi"}',
    );
    await api.kubectl('run', 'plain', '-n', 'capped', '--image=busybox', '--restart=Never');
    expect(await api.kubectl('get', 'pod', 'plain', '-n', 'capped', '-o', 'jsonpath={.spec.containers[0].resources}')).toBe(
      '{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"500m","memory":"256Mi"}}',
    );
    expect(await api.kubectl('get', 'pod', 'plain', '-n', 'capped', '-o', 'jsonpath={.metadata.annotations.kubernetes\\.io/limit-ranger}')).toBe(
      'LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container plain',
    );
    const big = await api.kubectlResult([
      'run',
      'big',
      '-n',
      'capped',
      '--image=busybox',
      '--restart=Never',
      '--overrides',
      '{"spec":{"containers":[{"name":"big","image":"busybox","resources":{"limits":{"memory":"2Gi"}}}]}}',
    ]);
    expect(big.code).not.toBe(0);
    expect(big.stderr).toContain('pods "big" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi');
    const claim = await api.kubectlResult(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: huge, namespace: capped}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}\n',
    );
    expect(claim.stderr).toContain('persistentvolumeclaims "huge" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi');
  });

  it('refuses a LimitRange whose bounds contradict each other', async () => {
    const r = await api.kubectlResult(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: LimitRange\nmetadata: {name: upside-down}\nspec: {limits: [{type: Container, min: {cpu: "2"}, max: {cpu: "1"}}]}\n',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1');
  });
});
