// Writing an object again as it was written restarts nothing (issue 27's
// "apply and update must never restart pods for nothing"): with the real
// kubectl, replace, server-side apply and client-side apply of an unchanged
// manifest keep a Deployment's generation and its one ReplicaSet, and an
// unchanged StorageClass and Service replace cleanly (their defaulted
// immutable fields are defaulted again, not seen as changed); a server-side
// re-apply that drops a nested struct leaves no empty parent behind.
import { describe, expect, it } from 'vitest';
import { useTestApiServer } from '../harness/api-server.ts';

const api = useTestApiServer('sk-reapply-', ['--disable-scheduler']);

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: busybox, command: [sleep, '3600']}]}
`;
const OTHERS = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: slow}
provisioner: example.com/slow
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 80}]}
`;

describe('writing an unchanged manifest again', () => {
  it("keeps the Deployment's generation and ReplicaSet through replace, server-side apply and apply", async () => {
    await api.kubectlResult(['apply', '-f', '-'], DEPLOYMENT);
    const state = async () =>
      `${await api.kubectl('get', 'deploy', 'web', '-o', 'jsonpath={.metadata.generation}')} ${(await api.kubectl('get', 'rs', '-l', 'app=web', '-o', 'name')).trim()}`;
    await expect.poll(state, { timeout: 20_000 }).toMatch(/^1 replicaset\.apps\/web-\w+$/);
    const before = await state();
    for (const args of [
      ['replace', '-f', '-'],
      ['apply', '--server-side', '--force-conflicts', '-f', '-'],
      ['apply', '-f', '-'],
    ]) {
      const r = await api.kubectlResult(args, DEPLOYMENT);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      // give the controller the time it would take to roll a new ReplicaSet
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await state(), args.join(' ')).toBe(before);
    }
  });

  it('replaces an unchanged StorageClass and Service, whose defaulted fields are immutable', async () => {
    expect((await api.kubectlResult(['apply', '-f', '-'], OTHERS)).code).toBe(0);
    const r = await api.kubectlResult(['replace', '-f', '-'], OTHERS);
    expect(r.code, r.stderr).toBe(0);
    expect(await api.kubectl('get', 'storageclass', 'slow', '-o', 'jsonpath={.reclaimPolicy} {.volumeBindingMode}')).toBe('Delete Immediate');
  });

  it('takes the struct a server-side re-apply drops away whole: a switch to Recreate leaves no rollingUpdate, a dropped limit no limits', async () => {
    const manifest = (strategy: string, resources: string) =>
      DEPLOYMENT.replace('name: web,', 'name: switching,')
        .replace(/app: web/g, 'app: switching')
        .replace('  replicas: 1\n', `  replicas: 1\n  strategy: ${strategy}\n`)
        .replace("command: [sleep, '3600']}", `command: [sleep, '3600']${resources}}`);
    const first = await api.kubectlResult(
      ['apply', '--server-side', '-f', '-'],
      manifest('{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}', ', resources: {limits: {cpu: 100m}}'),
    );
    expect(first.code, first.stderr).toBe(0);
    const second = await api.kubectlResult(['apply', '--server-side', '-f', '-'], manifest('{type: Recreate}', ''));
    expect(second.code, second.stderr).toBe(0);
    const [strategyJson, resourcesJson] = (
      await api.kubectl('get', 'deployment', 'switching', '-n', 'default', '-o', 'jsonpath={.spec.strategy}|{.spec.template.spec.containers[0].resources}')
    ).split('|');
    expect(strategyJson).toBe('{"type":"Recreate"}');
    // the request defaulted from the limit was nobody's to take; the limits map went whole
    expect(JSON.parse(resourcesJson ?? '{}')).toEqual({ requests: { cpu: '100m' } });
  });
});
