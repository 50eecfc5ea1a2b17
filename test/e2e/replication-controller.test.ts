// ReplicationController with the real kubectl: its selector and labels come
// from the template when left out, the replication manager keeps its pods at
// spec.replicas (owned by it, adopted and released by the selector), kubectl
// scale works through its scale subresource, and it goes with its pods.
import { describe, expect, it } from 'vitest';
import { useTestApiServer } from '../harness/api-server.ts';

// no scheduler: the pods stay Pending, which is all the controller needs
const api = useTestApiServer('sk-rc-', ['--disable-scheduler']);

const RC = `
apiVersion: v1
kind: ReplicationController
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: busybox}]}
`;

const podsOf = async (selector: string) =>
  (
    await api.kubectl(
      'get',
      'pods',
      '-n',
      'default',
      '-l',
      selector,
      '-o',
      'jsonpath={range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}{"\\n"}{end}',
    )
  )
    .split('\n')
    .filter(Boolean);

describe('ReplicationController', () => {
  it('defaults its selector from the template, keeps its pods at replicas, and scales through kubectl', async () => {
    const applied = await api.kubectlResult(['apply', '-f', '-'], RC);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await api.kubectl('get', 'rc', 'web', '-n', 'default', '-o', 'jsonpath={.spec.selector}/{.metadata.labels}')).toBe('{"app":"web"}/{"app":"web"}');
    await expect
      .poll(() => podsOf('app=web'), { timeout: 15_000 })
      .toEqual(['ReplicationController/web', 'ReplicationController/web', 'ReplicationController/web']);
    await expect.poll(() => api.kubectl('get', 'rc', 'web', '-n', 'default', '-o', 'jsonpath={.status.replicas}'), { timeout: 10_000 }).toBe('3');
    await api.kubectl('scale', 'rc', 'web', '-n', 'default', '--replicas=1');
    await expect.poll(async () => (await podsOf('app=web')).length, { timeout: 15_000 }).toBe(1);
    expect(await api.kubectl('get', 'rc', 'web', '-n', 'default', '-o', 'jsonpath={.spec.replicas}')).toBe('1');
  });

  it('releases a pod relabelled out of its selector and makes another', async () => {
    const [name] = (await api.kubectl('get', 'pods', '-n', 'default', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ');
    await api.kubectl('label', 'pod', name ?? '', '-n', 'default', 'app=elsewhere', '--overwrite');
    await expect.poll(() => podsOf('app=web'), { timeout: 15_000 }).toEqual(['ReplicationController/web']);
    await expect
      .poll(() => api.kubectl('get', 'pod', name ?? '', '-n', 'default', '-o', 'jsonpath={.metadata.ownerReferences[*].kind}'), { timeout: 10_000 })
      .toBe('');
  });

  it('refuses a template whose labels its selector does not match, and one with no labels to select by', async () => {
    const mismatched = await api.kubectlResult(
      ['apply', '-f', '-'],
      RC.replace('name: web', 'name: odd').replace('replicas: 3', 'replicas: 1\n  selector: {app: other}'),
    );
    expect(mismatched.code).not.toBe(0);
    expect(mismatched.stderr).toContain('spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`');
    const unlabelled = await api.kubectlResult(
      ['apply', '-f', '-'],
      RC.replace('name: web', 'name: bare').replace('metadata: {labels: {app: web}}', 'metadata: {}'),
    );
    expect(unlabelled.code).not.toBe(0);
    expect(unlabelled.stderr).toContain('spec.selector: Required value');
  });

  it('goes with its pods when deleted', async () => {
    await api.kubectl('delete', 'rc', 'web', '-n', 'default');
    await expect.poll(() => podsOf('app=web'), { timeout: 15_000 }).toEqual([]);
  });
});
