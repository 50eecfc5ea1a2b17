// A HorizontalPodAutoscaler on a real node: pods that burn their CPU (held to
// twice their request by a limit) make it scale the Deployment up to its
// maximum, reading the pods' usage from the resource metrics API as
// kube-controller-manager's does; once the pods go idle it scales back to its
// minimum (no stabilization window asked for). What it saw is in its status,
// its conditions, its Events and kubectl's columns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifest, eventsOf, startTestCluster, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('hpa', 233, { serverArgs: ['--horizontal-pod-autoscaler-sync-period=2s'] });
});

afterAll(async () => {
  await c?.teardown();
});

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: burner}
spec:
  replicas: 1
  selector: {matchLabels: {app: burner}}
  template:
    metadata: {labels: {app: burner}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox
        command: [sh, -c, 'while :; do :; done']
        resources: {requests: {cpu: 100m}, limits: {cpu: 200m}}
`;

const HPA = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: burner}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burner}
  minReplicas: 1
  maxReplicas: 3
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
  behavior: {scaleDown: {stabilizationWindowSeconds: 0}}
`;

const replicas = () => c.kubectl('get', 'deployment', 'burner', '-o', 'jsonpath={.spec.replicas}');

describe('HorizontalPodAutoscaler', () => {
  it('scales a Deployment whose pods burn their CPU up to its maximum', async () => {
    await applyManifest(c, DEPLOYMENT);
    await applyManifest(c, HPA);
    // the defaults it was given, as Kubernetes gives them
    expect(await c.kubectl('get', 'hpa', 'burner', '-o', 'jsonpath={.spec.behavior.scaleUp.policies[*].type}/{.spec.behavior.scaleDown.selectPolicy}')).toBe(
      'Pods Percent/Max',
    );
    await expect.poll(replicas, { timeout: 90_000, interval: 1000 }).toBe('3');
    expect(await eventsOf(c, 'burner')).toMatch(/^SuccessfulRescale: New size: 3; reason: cpu resource utilization \(percentage of request\) above target$/m);
    const status = JSON.parse(await c.kubectl('get', 'hpa', 'burner', '-o', 'jsonpath={.status}'));
    expect(status.currentMetrics[0].resource.current.averageUtilization).toBeGreaterThan(50);
    expect(status.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'AbleToScale', status: 'True' }),
        expect.objectContaining({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' }),
      ]),
    );
    expect(await c.kubectl('get', 'hpa', 'burner')).toMatch(/^burner\s+Deployment\/burner\s+cpu: \d+%\/50%\s+1\s+3\s+\d+\s+/m);
  });

  it('scales it back to its minimum once the pods are idle', async () => {
    // the template only: a manifest's replicas would set the count the autoscaler owns
    await c.kubectl(
      'patch',
      'deployment',
      'burner',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/template/spec/containers/0/command","value":["sleep","3600"]}]',
    );
    await expect.poll(replicas, { timeout: 120_000, interval: 1000 }).toBe('1');
    expect(await eventsOf(c, 'burner')).toMatch(/^SuccessfulRescale: New size: 1; reason: All metrics below target$/m);
  });

  it('says why it cannot scale a target that is not there', async () => {
    await applyManifest(
      c,
      HPA.replace('name: burner}\nspec', 'name: orphan}\nspec').replace('kind: Deployment, name: burner', 'kind: Deployment, name: missing'),
    );
    await expect
      .poll(() => c.kubectl('get', 'hpa', 'orphan', '-o', 'jsonpath={.status.conditions[?(@.type=="AbleToScale")].reason}'), { timeout: 30_000 })
      .toBe('FailedGetScale');
    expect(await eventsOf(c, 'orphan')).toMatch(/^FailedGetScale: the HPA controller was unable to get the target's current scale: /m);
  });
});
