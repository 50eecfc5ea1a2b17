// Services through the agent's nftables proxy and the cluster DNS, with real
// traffic: a client pod reaches two backends through the ClusterIP and by
// name, the host reaches them through the NodePort, and a Service without
// endpoints refuses connections; an aggregated API is served by an extension
// API server running in a pod, reached through its Service.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCert } from '../../apimachinery/index.ts';
import { echoDeployment, endpointsReady, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

const run = promisify(execFile);
let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('svc', 205);
});

afterAll(async () => {
  await c?.teardown();
});

/** Runs a one-off client pod and returns its log. */
async function client(name: string, script: string): Promise<string> {
  await c.kubectl('run', name, '--image=busybox', '--restart=Never', '--', 'sh', '-c', script);
  await waitForJsonPath(c, ['pod', name], '{.status.phase}', /^(Succeeded|Failed)$/, 90_000);
  const log = await c.kubectl('logs', name);
  await c.kubectl('delete', 'pod', name, '--wait=false');
  return log;
}

describe('Services on a real node', () => {
  it('balances a ClusterIP over the ready pods, resolves it by name, serves the NodePort, and refuses without endpoints', async () => {
    const apply = await c.kubectlResult(['apply', '-f', '-'], echoDeployment(2));
    expect(apply.code, apply.stderr).toBe(0);
    await c.kubectl('rollout', 'status', 'deployment/echo', '--timeout=120s');
    await c.kubectl('expose', 'deployment', 'echo', '--port=80', '--target-port=8080', '--type=NodePort');
    const [clusterIP, nodePort] = (await c.kubectl('get', 'service', 'echo', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}')).split(' ');
    const backends = (await c.kubectl('get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').sort();
    await expect.poll(() => endpointsReady(c, 'echo'), { timeout: 30_000 }).toBe('true true');
    await expect
      .poll(async () => (await run('nft', ['list', 'table', 'ip', 'skiff-test-svc'])).stdout, { timeout: 10_000 })
      .toContain(`${clusterIP} . tcp . 80`);

    // 20 requests from a pod through the ClusterIP reach both backends (no wget -T: busybox 1.35 crashes with it)
    const answers = (await client('caller', `for i in $(seq 20); do wget -qO- http://${clusterIP}/; done`)).split('\n').filter(Boolean);
    expect(answers).toHaveLength(20);
    expect([...new Set(answers)].sort()).toEqual(backends);

    // the NodePort answers on the node's own address (the bridge gateway here)
    const gateway = c.node.subnet.replace(/\.0\/24$/, '.1');
    const res = await fetch(`http://${gateway}:${nodePort}/`, { signal: AbortSignal.timeout(5000) });
    expect(backends).toContain((await res.text()).trim());

    // a LoadBalancer gets the node's address (ServiceLB's way), shown as its EXTERNAL-IP, and the proxy answers on it
    // (the test node's InternalIP is loopback, so the rule is checked rather than a connection made); it loses it when it stops being one
    await c.kubectl('expose', 'deployment', 'echo', '--name=echo-lb', '--port=8081', '--target-port=8080', '--type=LoadBalancer');
    const nodeIP = await c.kubectl('get', 'node', c.nodeName, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}');
    const external = await waitForJsonPath(c, ['service', 'echo-lb'], '{.status.loadBalancer.ingress[0].ip}', nodeIP);
    expect(await c.kubectl('get', 'service', 'echo-lb', '--no-headers')).toMatch(
      new RegExp(`^echo-lb\\s+LoadBalancer\\s+\\S+\\s+${external.replace(/\./g, '\\.')}\\s`),
    );
    await expect
      .poll(async () => (await run('nft', ['list', 'table', 'ip', 'skiff-test-svc'])).stdout, { timeout: 10_000 })
      .toContain(`${external} . tcp . 8081`);
    await c.kubectl('patch', 'service', 'echo-lb', '-p', '{"spec":{"type":"ClusterIP"}}');
    await expect.poll(() => c.kubectl('get', 'service', 'echo-lb', '-o', 'jsonpath={.status.loadBalancer}'), { timeout: 20_000 }).toBe('{}');
    await c.kubectl('delete', 'service', 'echo-lb');

    // by name through the cluster DNS: the full name, and the short one through the pod's search path
    const resolved = await client('resolver', 'nslookup echo.default.svc.cluster.local; wget -qO- http://echo/');
    expect(resolved).toContain(`Address: ${clusterIP}`);
    expect(backends).toContain(resolved.trim().split('\n').at(-1));
    expect(await client('missing', 'nslookup nope.default.svc.cluster.local; echo "exit $?"')).toMatch(/NXDOMAIN[\s\S]*exit 1/);

    // session affinity ClientIP: one client stays with one backend
    await c.kubectl('patch', 'service', 'echo', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}');
    await expect.poll(async () => (await run('nft', ['list', 'table', 'ip', 'skiff-test-svc'])).stdout, { timeout: 10_000 }).toContain('flags dynamic,timeout');
    const sticky = (await client('sticky', `for i in $(seq 10); do wget -qO- http://${clusterIP}/; done`)).split('\n').filter(Boolean);
    expect(sticky).toHaveLength(10);
    expect(new Set(sticky).size).toBe(1);

    // no endpoints: connections fail at once rather than hang (the host's unreachable route for the
    // service CIDR answers before the reject rule can; the NodePort is rejected)
    await c.kubectl('scale', 'deployment/echo', '--replicas=0');
    await expect
      .poll(() => c.kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=echo', '-o', 'jsonpath={.items[*].endpoints}'), { timeout: 30_000 })
      .toMatch(/^(\[\])?$/);
    await expect
      .poll(async () => (await run('nft', ['list', 'set', 'ip', 'skiff-test-svc', 'no-endpoint-ips'])).stdout, { timeout: 10_000 })
      .toContain(clusterIP);
    const refused = await client('refused', `wget -qO- http://${clusterIP}/ 2>&1; echo "exit $?"`);
    expect(refused).toMatch(/(Connection refused|No route to host)\nexit 1/);
    await expect(fetch(`http://${gateway}:${nodePort}/`, { signal: AbortSignal.timeout(5000) })).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });

  it('gives containers the service-link variables of their namespace, unless enableServiceLinks is false', async () => {
    await c.kubectl('create', 'service', 'clusterip', 'linked-db', '--tcp=5432:5432');
    const ip = await c.kubectl('get', 'service', 'linked-db', '-o', 'jsonpath={.spec.clusterIP}');
    expect((await client('links', 'echo $LINKED_DB_SERVICE_HOST:$LINKED_DB_SERVICE_PORT $LINKED_DB_PORT_5432_TCP $KUBERNETES_SERVICE_PORT')).trim()).toBe(
      `${ip}:5432 tcp://${ip}:5432 443`,
    );
    await c.kubectl(
      'run',
      'unlinked',
      '--image=busybox',
      '--restart=Never',
      '--overrides={"spec":{"enableServiceLinks":false}}',
      '--',
      'sh',
      '-c',
      'echo "[$LINKED_DB_SERVICE_HOST] $KUBERNETES_SERVICE_HOST"',
    );
    await waitForJsonPath(c, ['pod', 'unlinked'], '{.status.phase}', 'Succeeded', 90_000);
    expect((await c.kubectl('logs', 'unlinked')).trim()).toBe('[] 10.96.0.1');
    await c.kubectl('delete', 'service', 'linked-db');
  });

  it("shapes a pod's traffic from the bandwidth annotations, and removes the shaping with the pod", async () => {
    // the qdiscs on this node's bridge ports (other tests' pods are on bridges of their own)
    const shaping = async () => {
      // (the bridge itself appears with the node's first pod)
      const ports = (await run('ip', ['-br', 'link', 'show', 'master', c.node.bridge]).catch(() => ({ stdout: '' }))).stdout
        .split('\n')
        .map((l) => l.split(/[\s@]/)[0])
        .filter(Boolean) as string[];
      const lines: string[] = [];
      for (const p of ports)
        lines.push(...(await run('tc', ['qdisc', 'show', 'dev', p])).stdout.split('\n').filter((l) => / tbf .*rate 8Mbit|qdisc ingress /.test(l)));
      return lines;
    };
    expect(await shaping()).toEqual([]);
    const apply = await c.kubectlResult(
      ['apply', '-f', '-'],
      `
apiVersion: v1
kind: Pod
metadata:
  name: limited
  annotations: {kubernetes.io/ingress-bandwidth: 8M, kubernetes.io/egress-bandwidth: 8M}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: app, image: busybox, command: [sleep, '3600']}]
`,
    );
    expect(apply.code, apply.stderr).toBe(0);
    await waitForJsonPath(c, ['pod', 'limited'], '{.status.phase}', 'Running');
    // the bandwidth plugin: a token bucket on the pod's host-side veth (traffic to the pod), and an ingress
    // qdisc there that sends the pod's own traffic to a token bucket on an ifb device
    expect((await shaping()).map((l) => (l.includes('tbf') ? 'tbf' : 'ingress')).sort()).toEqual(['ingress', 'tbf']);
    await c.kubectl('delete', 'pod', 'limited', '--wait=true');
    await expect.poll(shaping, { timeout: 20_000 }).toEqual([]);
  });

  it('lets a pod reach itself through its own Service (hairpin)', async () => {
    const apply = await c.kubectlResult(
      ['apply', '-f', '-'],
      `
apiVersion: v1
kind: Service
metadata: {name: mirror}
spec:
  selector: {app: selfie}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: selfie, labels: {app: selfie}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && httpd -p 8080 -h /www && for i in $(seq 60); do wget -qO- http://mirror/ && exit 0; sleep 1; done; exit 1']
`,
    );
    expect(apply.code, apply.stderr).toBe(0);
    await waitForJsonPath(c, ['pod', 'selfie'], '{.status.phase}', 'Succeeded', 90_000);
    // (the Service has another name than the pod: the pod's own name is in its /etc/hosts)
    // its own answer came back through the ClusterIP: masqueraded, or it would have answered itself from the wrong address
    expect((await c.kubectl('logs', 'selfie')).trim().split('\n').at(-1)).toBe('selfie');
  });

  it('serves an aggregated API from an extension API server running in a pod, through its Service', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-svc-ext-'));
    try {
      // a small extension server: Node's https, trusting the front-proxy CA the cluster publishes, as real ones do
      const config = JSON.parse(
        await c.kubectl('get', 'configmap', '-n', 'kube-system', 'extension-apiserver-authentication', '-o', 'jsonpath={.data}'),
      ) as Record<string, string>;
      const ca = await createCA('extension-ca');
      const serving = await issueCert(ca, { commonName: 'ext.default.svc', dnsNames: ['ext.default.svc'], usage: 'server' });
      const port = 20000 + Math.floor(Math.random() * 10000);
      await writeFile(join(dir, 'front-proxy-ca.crt'), config['requestheader-client-ca-file'] ?? '');
      await writeFile(join(dir, 'tls.crt'), serving.cert);
      await writeFile(join(dir, 'tls.key'), serving.key);
      await writeFile(
        join(dir, 'server.mjs'),
        `import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
const file = (n) => readFileSync(${JSON.stringify(dir)} + '/' + n, 'utf8');
createServer({ cert: file('tls.crt'), key: file('tls.key'), ca: file('front-proxy-ca.crt'), requestCert: true, rejectUnauthorized: false }, (req, res) => {
  const user = req.socket.authorized && req.socket.getPeerCertificate().subject.CN === 'front-proxy-client' ? req.headers['x-remote-user'] : undefined;
  const send = (code, body) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (!user) return send(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401 });
  if (req.url === '/apis/example.com/v1') return send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'example.com/v1', resources: [{ name: 'widgets', singularName: 'widget', namespaced: true, kind: 'Widget', verbs: ['list'] }] });
  send(200, { kind: 'WidgetList', apiVersion: 'example.com/v1', metadata: {}, items: [{ kind: 'Widget', apiVersion: 'example.com/v1', metadata: { name: 'from-a-pod-for-' + user, namespace: 'default' } }] });
}).listen(${port});
`,
      );
      const manifest = `apiVersion: v1
kind: Pod
metadata: {name: extension-server, labels: {app: extension-server}}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  volumes: [{name: host, hostPath: {path: /}}]
  containers:
  - name: server
    image: busybox
    command: [chroot, /host, ${JSON.stringify(process.execPath)}, ${JSON.stringify(join(dir, 'server.mjs'))}]
    securityContext: {privileged: true}
    volumeMounts: [{name: host, mountPath: /host}]
    readinessProbe: {tcpSocket: {port: ${port}}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {selector: {app: extension-server}, ports: [{port: 443, targetPort: ${port}}]}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1.example.com}
spec:
  group: example.com
  version: v1
  service: {namespace: default, name: ext}
  caBundle: ${Buffer.from(ca.cert).toString('base64')}
  groupPriorityMinimum: 1000
  versionPriority: 15
`;
      const applied = await c.kubectlResult(['apply', '-f', '-'], manifest);
      expect(applied.code, applied.stderr).toBe(0);
      await expect
        .poll(() => c.kubectl('get', 'apiservice', 'v1.example.com', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].reason}'), { timeout: 60_000 })
        .toBe('Passed')
        .catch(async (err: Error) => {
          const pod = await c.kubectlResult(['get', 'pod', 'extension-server', '-o', 'jsonpath={.status}']);
          const logs = await c.kubectlResult(['logs', 'extension-server']);
          const why = await c.kubectlResult(['get', 'apiservice', 'v1.example.com', '-o', 'jsonpath={.status.conditions[0].message}']);
          throw new Error(`${err.message}: ${why.stdout}\npod: ${pod.stdout.slice(0, 300)}\nlogs: ${logs.stdout}${logs.stderr}`);
        });
      expect((await c.kubectl('get', 'widgets', '-o', 'name')).trim()).toMatch(/^widget\.example\.com\/from-a-pod-for-\S+$/);
      await c.kubectl('delete', 'apiservice', 'v1.example.com');
      await c.kubectl('delete', 'pod', 'extension-server', '--wait=false');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
