// The walkthrough with the real kubectl against `skiff server` and
// `skiff agent` on a containerd of the test's own.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifest, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

const run = promisify(execFile);
let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('e2e', 202);
});

afterAll(async () => {
  await c?.teardown();
});

describe('kubectl against skiff', () => {
  it('lists one Ready node', async () => {
    const out = await c.kubectl('get', 'nodes');
    expect(out).toMatch(new RegExp(`^${c.nodeName}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.34\\.0-skiff`, 'm'));
    const wide = await c.kubectl('get', 'nodes', '-o', 'wide');
    expect(wide).toMatch(/containerd:\/\/1\.6/);
  });

  it('runs a pod to completion and serves its log', async () => {
    await c.kubectl('run', 'hello', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'echo hi from skiff');
    await waitForJsonPath(c, ['pod', 'hello'], '{.status.phase}', 'Succeeded');
    expect(await c.kubectl('logs', 'hello')).toBe('hi from skiff\n');
    expect(await c.kubectl('get', 'pod', 'hello')).toMatch(/hello\s+0\/1\s+Completed\s+0/);
    const describe = await c.kubectl('describe', 'pod', 'hello');
    for (const reason of ['Scheduled', 'Pulled', 'Created', 'Started']) expect(describe).toContain(reason);
    await c.kubectl('delete', 'pod', 'hello');
  });

  it('runs a server pod with an address from the node pod CIDR, and stops it gracefully', async () => {
    await c.kubectl('run', 'web', '--image=busybox', '--', 'httpd', '-f', '-p', '8080');
    await waitForJsonPath(c, ['pod', 'web'], '{.status.phase}', 'Running');
    const wide = await c.kubectl('get', 'pod', 'web', '-o', 'wide');
    const ip = /web\s+1\/1\s+Running\s+0\s+\S+\s+(10\.244\.202\.\d+)\s+e2e-node/.exec(wide)?.[1];
    expect(ip, wide).toBeDefined();
    const res = await fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(404);
    const uid = await c.kubectl('get', 'pod', 'web', '-o', 'jsonpath={.metadata.uid}');
    await c.kubectl('delete', 'pod', 'web', '--grace-period=2');
    expect((await c.kubectlResult(['get', 'pod', 'web'])).stderr).toMatch(/NotFound/);
    // sandbox and network are gone
    await expect.poll(async () => (await c.node.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).length, { timeout: 20_000 }).toBe(0);
    const links = (await run('ip', ['-br', 'link', 'show', 'master', c.node.bridge])).stdout.trim();
    expect(links).toBe('');
    const events = await c.kubectl('get', 'events', '--field-selector', `involvedObject.uid=${uid}`);
    expect(events).toMatch(/Killing/);
  });

  it('keeps 20 running pods through an agent restart without restarting them, and cleans up one deleted while it was down', async () => {
    await applyManifest(
      c,
      `
apiVersion: apps/v1
kind: Deployment
metadata: {name: keepers}
spec:
  replicas: 20
  selector: {matchLabels: {app: keepers}}
  template:
    metadata: {labels: {app: keepers}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`,
    );
    await c.kubectl('rollout', 'status', 'deployment/keepers', '--timeout=120s');
    const state = async () =>
      new Map(
        (
          await c.kubectl(
            'get',
            'pods',
            '-l',
            'app=keepers',
            '-o',
            'jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[0].containerID} {.status.podIP} {.status.containerStatuses[0].restartCount}{"\\n"}{end}',
          )
        )
          .trim()
          .split('\n')
          .map((l) => l.split(' '))
          .map(([name, ...rest]) => [name as string, rest.join(' ')]),
      );
    const before = await state();
    expect(before.size).toBe(20);
    await c.stopAgent();
    // deleted while the agent is down: nobody stops its containers until the agent is back
    const [gone, ...kept] = [...before.keys()];
    const goneUid = await c.kubectl('get', 'pod', gone as string, '-o', 'jsonpath={.metadata.uid}');
    await c.kubectl('delete', 'pod', gone as string, '--grace-period=0', '--force');
    await c.restartAgent();
    await waitForJsonPath(c, ['node', c.nodeName], '{.status.conditions[?(@.type=="Ready")].status}', 'True');
    // a new pod proves the new agent is at work before the old pods are looked at again
    await c.kubectl('run', 'probe', '--image=busybox', '--restart=Never', '--', 'true');
    await waitForJsonPath(c, ['pod', 'probe'], '{.status.phase}', 'Succeeded');
    const after = await state();
    for (const name of kept) expect(after.get(name), name).toBe(before.get(name));
    expect([...after.values()].every((v) => v.endsWith(' 0'))).toBe(true);
    await expect.poll(() => c.node.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': goneUid } }), { timeout: 30_000 }).toEqual([]);
    await c.kubectl('delete', 'deployment', 'keepers');
    await c.kubectl('delete', 'pod', 'probe', '--grace-period=1');
  });

  it('survives a containerd restart: running pods are not restarted, and a pod created meanwhile starts once the runtime is back', async () => {
    await c.kubectl('run', 'steady', '--image=busybox', '--', 'sleep', '3600');
    await waitForJsonPath(c, ['pod', 'steady'], '{.status.containerStatuses[0].ready}', 'true');
    const identity =
      'jsonpath={.status.containerStatuses[0].containerID} {.status.podIP} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}';
    const before = await c.kubectl('get', 'pod', 'steady', '-o', identity);
    await c.node.stopContainerd();
    const ready = '{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}';
    await waitForJsonPath(c, ['node', c.nodeName], ready, /^False container runtime is down/);
    await c.kubectl('run', 'latecomer', '--image=busybox', '--', 'sleep', '3600');
    await c.node.startContainerd();
    await waitForJsonPath(c, ['node', c.nodeName], ready, /^True/);
    await waitForJsonPath(c, ['pod', 'latecomer'], '{.status.containerStatuses[0].ready}', 'true');
    // the running pod kept its container, address and count: nothing was restarted
    expect(await c.kubectl('get', 'pod', 'steady', '-o', identity)).toBe(before);
    await c.kubectl('delete', 'pod', 'steady', 'latecomer', '--grace-period=1');
  });

  it('creates, applies and labels a pod from a manifest', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'fromfile' },
      spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
    });
    expect((await c.kubectlResult(['create', '-f', '-'], manifest)).stdout).toBe('pod/fromfile created\n');
    expect((await c.kubectlResult(['apply', '-f', '-'], manifest)).stdout).toBe('pod/fromfile configured\n');
    await c.kubectl('label', 'pod', 'fromfile', 'tier=demo');
    expect(await c.kubectl('get', 'pods', '-l', 'tier=demo', '-o', 'name')).toBe('pod/fromfile\n');
    await c.kubectl('delete', 'pod', 'fromfile', '--grace-period=1');
  });

  it('rejects an invalid pod with 422 and field causes, and stores nothing', async () => {
    const bad = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: { containers: [] } });
    const r = await c.kubectlResult(['create', '-f', '-'], bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/The Pod "Bad_Name" is invalid/);
    expect(r.stderr).toMatch(/metadata\.name: Invalid value: "Bad_Name"/);
    expect(r.stderr).toMatch(/spec\.containers: Required value/);
    const badImage = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bad-image' },
      spec: { containers: [{ name: 'c', image: 'busy box:latest' }] },
    });
    const r2 = await c.kubectlResult(['create', '-f', '-'], badImage);
    expect(r2.stderr).toMatch(/spec\.containers\[0\]\.image: Invalid value: "busy box:latest"/);
    const raw = await c.kubectlResult(['get', '--raw', '/api/v1/namespaces/default/pods/bad-image']);
    expect(raw.stderr).toMatch(/NotFound/);
  });

  it('shows ErrImagePull / ImagePullBackOff for a missing image, and keeps serving other pods', async () => {
    await c.kubectl('run', 'ghost', '--image=registry.example/no-such-image:1.0', '--restart=Never');
    await waitForJsonPath(c, ['pod', 'ghost'], '{.status.containerStatuses[0].state.waiting.reason}', /^(ErrImagePull|ImagePullBackOff)$/);
    expect(await c.kubectl('get', 'events', '--field-selector', 'involvedObject.name=ghost,reason=Failed')).toMatch(
      /Failed to pull image "registry.example\/no-such-image:1.0"/,
    );
    await c.kubectl('run', 'nocmd', '--image=busybox', '--restart=Never', '--command', '--', '/no/such/binary');
    await waitForJsonPath(c, ['pod', 'nocmd'], '{.status.phase}', 'Failed');
    expect(await c.kubectl('get', 'pod', 'nocmd', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.reason}')).toBe('StartError');
    expect(await c.kubectl('get', 'events', '--field-selector', 'involvedObject.name=nocmd,reason=Failed')).toMatch(/no such file or directory/);
    // the agent still runs new pods
    await c.kubectl('run', 'after', '--image=busybox', '--restart=Never', '--', 'true');
    await waitForJsonPath(c, ['pod', 'after'], '{.status.phase}', 'Succeeded');
    await c.kubectl('delete', 'pod', 'ghost', 'nocmd', 'after', '--grace-period=1');
  });
});
