// Writing an object again as it was written restarts nothing (issue 27's
// "apply and update must never restart pods for nothing"): with the real
// kubectl, replace, server-side apply and client-side apply of an unchanged
// manifest keep a Deployment's generation and its one ReplicaSet, and an
// unchanged StorageClass and Service replace cleanly (their defaulted
// immutable fields are defaulted again, not seen as changed).
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
});
