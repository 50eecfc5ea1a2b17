// NetworkPolicy enforced by the agent, with the real kubectl and real
// traffic between pods: a default-deny cuts a pod off (its probes still pass),
// rules let in what they name (pod labels, namespace labels, a named port),
// egress is held at the source, traffic through a Service is judged after
// DNAT, and deleting the policies opens everything again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifest, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;
let webIP = '';
let serviceIP = '';

const sleeper = (name: string, namespace: string, labels: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}, labels: {${labels}}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`;

beforeAll(async () => {
  c = await startTestCluster('netpol', 226);
  await c.kubectl('create', 'namespace', 'ops');
  await c.kubectl('label', 'namespace', 'ops', 'team=ops');
  await applyManifest(
    c,
    `
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: busybox
    command: [sh, -c, 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www']
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /index.html, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---${sleeper('client', 'default', 'role: client')}---${sleeper('other', 'default', 'role: other')}---${sleeper('prom', 'ops', 'app: prom')}`,
  );
  for (const [pod, ns] of [
    ['web', 'default'],
    ['client', 'default'],
    ['other', 'default'],
    ['prom', 'ops'],
  ] as const)
    await waitForJsonPath(c, ['pod', pod, '-n', ns], '{.status.phase}', 'Running');
  await waitForJsonPath(c, ['pod', 'web'], '{.status.conditions[?(@.type=="Ready")].status}', 'True');
  webIP = await c.kubectl('get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}');
  serviceIP = await c.kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}');
});

afterAll(async () => {
  await c?.teardown();
});

/** Whether `pod` gets the page from `url` within 2 s. */
async function reaches(pod: string, namespace: string, url: string): Promise<boolean> {
  const r = await c.kubectlResult(['exec', pod, '-n', namespace, '--', 'timeout', '2', 'wget', '-q', '-O', '-', url]);
  return r.code === 0 && r.stdout.includes('hello');
}

/** Who reaches web directly, as a string to compare: client other prom. */
async function matrix(url = `http://${webIP}:8080/`): Promise<string> {
  const results = await Promise.all([reaches('client', 'default', url), reaches('other', 'default', url), reaches('prom', 'ops', url)]);
  return ['client', 'other', 'prom'].filter((_, i) => results[i]).join(' ') || 'none';
}

const policy = (name: string, spec: string, namespace = 'default') => `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${namespace}}
spec: ${spec}
`;

describe('NetworkPolicy', () => {
  it('lets everything through without policies', async () => {
    expect(await matrix()).toBe('client other prom');
  });

  it('cuts a pod off under default-deny, while its readiness probes still pass', async () => {
    await applyManifest(c, policy('default-deny', '{podSelector: {}, policyTypes: [Ingress]}'));
    await expect.poll(() => matrix(), { timeout: 20_000 }).toBe('none');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await c.kubectl('get', 'pod', 'web', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')).toBe('True');
  });

  it('lets in the pods a rule names by label on a named port, and a namespace by its labels', async () => {
    await applyManifest(
      c,
      policy(
        'web-from-clients',
        '{podSelector: {matchLabels: {app: web}}, ingress: [{from: [{podSelector: {matchLabels: {role: client}}}], ports: [{port: http}]}]}',
      ),
    );
    await expect.poll(() => matrix(), { timeout: 20_000 }).toBe('client');
    await applyManifest(
      c,
      policy('web-from-ops', '{podSelector: {matchLabels: {app: web}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: ops}}}]}]}'),
    );
    await expect.poll(() => matrix(), { timeout: 20_000 }).toBe('client prom');
  });

  it('judges traffic through a Service after its DNAT', async () => {
    await expect.poll(() => matrix(`http://${serviceIP}/`), { timeout: 20_000 }).toBe('client prom');
  });

  it('holds egress at the source', async () => {
    await applyManifest(c, policy('prom-no-egress', '{podSelector: {}, policyTypes: [Egress]}', 'ops'));
    await expect.poll(() => matrix(), { timeout: 20_000 }).toBe('client');
  });

  it('opens everything again when the policies go', async () => {
    await c.kubectl('delete', 'networkpolicy', '--all', '-n', 'default');
    await c.kubectl('delete', 'networkpolicy', '--all', '-n', 'ops');
    await expect.poll(() => matrix(), { timeout: 20_000 }).toBe('client other prom');
  });
});
