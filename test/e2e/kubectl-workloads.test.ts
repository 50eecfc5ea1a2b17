// Workload controllers against a real node: the Deployment and ReplicaSet
// controllers, the scheduler and `skiff agent` on a containerd of the test's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('wl', 203);
});

afterAll(async () => {
  await c?.teardown();
});

const deployment = (image: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: ${image}
        command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
`;

/** image of each Running pod of the Deployment, sorted */
async function runningImages(): Promise<string[]> {
  const out = await c.kubectl(
    'get',
    'pods',
    '-l',
    'app=web',
    '-o',
    'jsonpath={range .items[?(@.status.phase=="Running")]}{.spec.containers[0].image}{"\\n"}{end}',
  );
  return out.split('\n').filter(Boolean).sort();
}

async function rolledOut(): Promise<void> {
  const out = await c.kubectl('rollout', 'status', 'deployment/web', '--timeout=120s');
  expect(out).toContain('deployment "web" successfully rolled out');
}

describe('Deployments on a real node', () => {
  it('rolls out, scales, rolls to a new image and back, and is collected with its pods', async () => {
    expect((await c.kubectlResult(['apply', '-f', '-'], deployment('busybox'))).stdout).toContain('deployment.apps/web created');
    await rolledOut();
    await expect.poll(runningImages, { timeout: 30_000 }).toEqual(['busybox', 'busybox']);

    await c.kubectl('scale', 'deployment/web', '--replicas=3');
    await rolledOut();
    await expect.poll(runningImages, { timeout: 30_000 }).toEqual(['busybox', 'busybox', 'busybox']);

    await c.kubectl('set', 'image', 'deployment/web', 'web=busybox:1.35');
    await rolledOut();
    await expect.poll(runningImages, { timeout: 60_000 }).toEqual(['busybox:1.35', 'busybox:1.35', 'busybox:1.35']);
    const sets = await c.kubectl(
      'get',
      'rs',
      '-l',
      'app=web',
      '-o',
      'jsonpath={range .items[*]}{.spec.replicas}/{.metadata.annotations.deployment\\.kubernetes\\.io/revision} {end}',
    );
    expect(sets.trim().split(' ').sort()).toEqual(['0/1', '3/2']);
    expect(await c.kubectl('rollout', 'history', 'deployment/web')).toMatch(/^1\s+<none>\n2\s+<none>/m);

    expect(await c.kubectl('rollout', 'undo', 'deployment/web')).toContain('deployment.apps/web rolled back');
    await rolledOut();
    await expect.poll(runningImages, { timeout: 60_000 }).toEqual(['busybox', 'busybox', 'busybox']);
    expect(
      await c.kubectl(
        'get',
        'deployment',
        'web',
        '-o',
        'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision} {.status.updatedReplicas} {.status.availableReplicas}',
      ),
    ).toBe('3 3 3');
    const events = await c.kubectl(
      'get',
      'events',
      '--field-selector',
      'involvedObject.kind=Deployment,involvedObject.name=web',
      '-o',
      'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}',
    );
    expect(events).toMatch(/ScalingReplicaSet: Scaled up replica set web-\w+ from 0 to 1/);
    expect(events).toMatch(/ScalingReplicaSet: Scaled down replica set web-\w+ from 3 to 2/);

    // the replica sets and pods go with the Deployment (background propagation)
    await c.kubectl('delete', 'deployment', 'web');
    await waitForJsonPath(c, ['rs', '-l', 'app=web'], '{.items}', /^(\[\])?$/, 30_000);
    await waitForJsonPath(c, ['pods', '-l', 'app=web'], '{.items}', /^(\[\])?$/, 60_000);
  });

  it('replaces a pod of a ReplicaSet that is deleted', async () => {
    await c.kubectlResult(
      ['apply', '-f', '-'],
      deployment('busybox')
        .replace('name: web', 'name: heal')
        .replace(/app: web/g, 'app: heal'),
    );
    await c.kubectl('rollout', 'status', 'deployment/heal', '--timeout=120s');
    const [first] = (await c.kubectl('get', 'pods', '-l', 'app=heal', '-o', 'name')).trim().split('\n');
    await c.kubectl('delete', first as string, '--wait=false');
    await expect
      .poll(
        async () => {
          const names = (
            await c.kubectl(
              'get',
              'pods',
              '-l',
              'app=heal',
              '-o',
              'jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}',
            )
          )
            .split('\n')
            .filter((l) => l.trim() && !l.trim().includes(' '));
          return names.length === 2 && !names.some((n) => `pod/${n.trim()}` === first);
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    await c.kubectl('delete', 'deployment', 'heal');
  });
});

describe('Jobs on a real node', () => {
  it('runs a Job to completion, two pods at a time', async () => {
    await c.kubectlResult(
      ['apply', '-f', '-'],
      `
apiVersion: batch/v1
kind: Job
metadata: {name: count}
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [sh, -c, 'echo done']}]
`,
    );
    await c.kubectl('wait', '--for=condition=complete', 'job/count', '--timeout=120s');
    expect(await c.kubectl('get', 'job', 'count', '-o', 'jsonpath={.status.succeeded} {.status.completionTime}')).toMatch(/^3 \d{4}-/);
    expect(await c.kubectl('get', 'job', 'count')).toMatch(/^count\s+Complete\s+3\/3\s+/m);
    const pods = await c.kubectl('get', 'pods', '-l', 'job-name=count', '-o', 'jsonpath={range .items[*]}{.status.phase} {end}');
    expect(pods.trim().split(' ')).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(await c.kubectl('logs', 'job/count')).toBe('done\n');
  });

  it('fails a Job past its backoff limit and says why', async () => {
    await c.kubectlResult(
      ['apply', '-f', '-'],
      `
apiVersion: batch/v1
kind: Job
metadata: {name: doomed}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [sh, -c, 'exit 3']}]
`,
    );
    await c.kubectl('wait', '--for=condition=failed', 'job/doomed', '--timeout=120s');
    expect(await c.kubectl('get', 'job', 'doomed', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].reason} {.status.failed}')).toBe(
      'BackoffLimitExceeded 1',
    );
    const events = await c.kubectl(
      'get',
      'events',
      '--field-selector',
      'involvedObject.kind=Job,involvedObject.name=doomed',
      '-o',
      'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
    );
    expect(events).toContain('BackoffLimitExceeded');
  });
});

describe('Job pod failure policy on a real node', () => {
  it('fails the Job at once when a pod exits with a FailJob exit code', async () => {
    await c.kubectlResult(
      ['apply', '-f', '-'],
      `
apiVersion: batch/v1
kind: Job
metadata: {name: policed}
spec:
  backoffLimit: 6
  podFailurePolicy:
    rules: [{action: FailJob, onExitCodes: {operator: In, values: [42]}}]
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: [sh, -c, 'exit 42']}]
`,
    );
    await c.kubectl('wait', '--for=condition=failed', 'job/policed', '--timeout=120s');
    expect(
      await c.kubectl(
        'get',
        'job',
        'policed',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}',
      ),
    ).toMatch(/^PodFailurePolicy: Container main for pod default\/policed-\w+ failed with exit code 42 matching FailJob rule at index 0$/);
  });
});

describe('Service endpoints on a real node', () => {
  it('lists the ready pods of a Service in its EndpointSlice and Endpoints', async () => {
    await c.kubectlResult(
      ['apply', '-f', '-'],
      deployment('busybox')
        .replace('name: web', 'name: backend')
        .replace(/app: web/g, 'app: backend'),
    );
    await c.kubectl('rollout', 'status', 'deployment/backend', '--timeout=120s');
    await c.kubectl('expose', 'deployment', 'backend', '--port=80', '--target-port=8080');
    const podIPs = async () =>
      (await c.kubectl('get', 'pods', '-l', 'app=backend', '-o', 'jsonpath={.items[*].status.podIP}')).split(' ').filter(Boolean).sort();
    const sliceIPs = async () =>
      (
        await c.kubectl(
          'get',
          'endpointslices',
          '-l',
          'kubernetes.io/service-name=backend',
          '-o',
          'jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]} {end}',
        )
      )
        .split(' ')
        .filter(Boolean)
        .sort();
    await expect.poll(sliceIPs, { timeout: 20_000 }).toEqual(await podIPs());
    expect(
      await c.kubectl(
        'get',
        'endpointslices',
        '-l',
        'kubernetes.io/service-name=backend',
        '-o',
        'jsonpath={.items[0].ports[0].port} {.items[0].endpoints[0].nodeName} {.items[0].endpoints[0].targetRef.kind}',
      ),
    ).toBe(`8080 ${c.nodeName} Pod`);
    const endpoints = await c.kubectl('get', 'endpoints', 'backend');
    for (const ip of await podIPs()) expect(endpoints).toContain(`${ip}:8080`);
    await c.kubectl('scale', 'deployment/backend', '--replicas=1');
    await expect.poll(sliceIPs, { timeout: 30_000 }).toHaveLength(1);
    await c.kubectl('delete', 'service', 'backend');
    await expect
      .poll(() => c.kubectl('get', 'endpointslices,endpoints', '-l', 'kubernetes.io/service-name=backend', '-o', 'name'), { timeout: 20_000 })
      .toBe('');
    await c.kubectl('delete', 'deployment', 'backend');
  });
});
