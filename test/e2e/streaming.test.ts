// kubectl exec, cp, attach and port-forward with the real kubectl: through
// the API server and the kubelet API to containerd's streaming server, with
// stdin, exit codes, files both ways and TCP to a pod's port; exec over
// WebSocket v5 (translated to SPDY by the agent) and over SPDY.
import { spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../../apimachinery/index.ts';
import { KUBECTL, applyManifest, rawRequest, eventsOf, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-strm-files-'));
  await mkdir(join(dir, 'manifests'));
  c = await startTestCluster('strm', 220, { agentConfig: { staticPodPath: join(dir, 'manifests'), fileCheckFrequency: '1s' } });
  await applyManifest(
    c,
    `
apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: busybox, command: [sh, -c, 'mkdir -p /www && echo served-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www']}
  - {name: talker, image: busybox, stdin: true, command: [sh, -c, 'while read line; do echo "heard: $line"; done']}
`,
  );
  await waitForJsonPath(c, ['pod', 'shell'], '{.status.phase}', 'Running');
});

afterAll(async () => {
  await c?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('streams into pods', () => {
  it('runs a command with kubectl exec, passes stdin, and returns its exit code', async () => {
    expect(await c.kubectl('exec', 'shell', '-c', 'app', '--', 'sh', '-c', 'echo out; echo err >&2')).toBe('out\n');
    const piped = await c.kubectlResult(['exec', '-i', 'shell', '-c', 'app', '--', 'sh', '-c', 'tr a-z A-Z'], 'through stdin\n');
    expect(piped).toMatchObject({ code: 0, stdout: 'THROUGH STDIN\n' });
    const failed = await c.kubectlResult(['exec', 'shell', '-c', 'app', '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/command terminated with exit code 3/);
    const missing = await c.kubectlResult(['exec', 'shell', '-c', 'nope', '--', 'true']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/container nope is not valid for pod shell/);
  });

  it('runs exec over WebSocket v5.channel.k8s.io, stdin ending the command, and over SPDY for older clients', async () => {
    // kubectl asks for v5 first: the agent speaks it, and SPDY to containerd, so nothing falls back and stdin's end is passed on
    const v5 = await c.kubectlResult(['exec', '-i', '-v=7', 'shell', '-c', 'app', '--', 'sh', '-c', 'tr a-z A-Z; echo done >&2; exit 4'], 'to the end\n');
    expect(v5.code).toBe(4);
    expect(v5.stdout).toBe('TO THE END\n');
    expect(v5.stderr).toContain('done\n');
    expect(v5.stderr).toContain('Sec-Websocket-Protocol: v5.channel.k8s.io');
    expect(v5.stderr).not.toContain('RemoteCommand fallback');
    const big = await c.kubectlResult(['exec', 'shell', '-c', 'app', '--', 'sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x']);
    expect(big.stdout).toHaveLength(300_000);
    process.env.KUBECTL_REMOTE_COMMAND_WEBSOCKETS = 'false';
    try {
      const spdy = await c.kubectlResult(['exec', '-i', 'shell', '-c', 'app', '--', 'sh', '-c', 'tr a-z A-Z'], 'over spdy\n');
      expect(spdy).toMatchObject({ code: 0, stdout: 'OVER SPDY\n' });
    } finally {
      delete process.env.KUBECTL_REMOTE_COMMAND_WEBSOCKETS;
    }
  });

  it('copies files into and out of a container with kubectl cp', async () => {
    const local = join(dir, 'up.txt');
    await writeFile(local, 'bytes going up\n');
    await c.kubectl('cp', local, 'shell:/tmp/up.txt', '-c', 'app');
    expect(await c.kubectl('exec', 'shell', '-c', 'app', '--', 'cat', '/tmp/up.txt')).toBe('bytes going up\n');
    await c.kubectl('cp', 'shell:/www/index.html', join(dir, 'down.html'), '-c', 'app');
    expect(await readFile(join(dir, 'down.html'), 'utf8')).toBe('served-from-pod\n');
  });

  it("attaches to a running container's stdin and stdout", async () => {
    const r = await c.kubectlResult(['attach', '-i', 'shell', '-c', 'talker'], 'hello over attach\n');
    expect(r.stderr).not.toMatch(/error/i);
    await expect.poll(() => c.kubectl('logs', 'shell', '-c', 'talker'), { timeout: 20_000 }).toContain('heard: hello over attach');
    // booleans as the Python client spells them
    const stamped = await c.kubectl('get', '--raw', '/api/v1/namespaces/default/pods/shell/log?container=talker&timestamps=True');
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\S+ heard: hello over attach$/m);
  });

  it('answers a malformed kubelet path or parameter with 400, and an exec that selects no stream with 400', async () => {
    const cfg = await loadKubeconfig(c.kubeconfig);
    const node = `/api/v1/nodes/${c.nodeName}/proxy/containerLogs/default/shell`;
    // through the node proxy to the kubelet, which answers in plain text
    expect(await rawRequest(cfg, { method: 'GET', path: `${node}/%25ZZ` })).toMatchObject({ status: 400, text: 'invalid URL escape "%ZZ"' });
    expect(await rawRequest(cfg, { method: 'GET', path: `${node}/app?tailLines=soon` })).toMatchObject({
      status: 400,
      text: 'strconv.ParseInt: parsing "soon": invalid syntax',
    });
    const url = new URL(cfg.server);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: cfg.ca, cert: cfg.cert, key: cfg.key }, () =>
        socket.write(
          'GET /api/v1/namespaces/default/pods/shell/exec?container=app&command=true HTTP/1.1\r\nHost: skiff\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
        ),
      );
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('you must specify at least 1 of stdin, stdout, stderr');
  });

  it('forwards a local port to the pod with kubectl port-forward, over WebSocket as kubectl asks first', async () => {
    const pf = spawn(KUBECTL, ['port-forward', '-v=7', 'pod/shell', ':8080', '--address', '127.0.0.1'], { env: { ...process.env, KUBECONFIG: c.kubeconfig } });
    let log = '';
    pf.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        pf.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        pf.stderr.on('data', (d: Buffer) => (out += d.toString()));
        pf.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}: ${out}`)));
      });
      for (let i = 0; i < 3; i++) {
        const body = await (await fetch(`http://127.0.0.1:${port}/index.html`)).text();
        expect(body).toBe('served-from-pod\n');
      }
      // SPDY tunnelled in the WebSocket, answered by the agent: nothing fell back
      expect(log).toContain('SPDY/3.1+portforward.k8s.io');
      expect(
        log,
        log
          .split('\n')
          .filter((l) => /fallback|SPDY|websocket/i.test(l))
          .join('\n'),
      ).not.toMatch(/fallback/i);
    } finally {
      pf.kill();
    }
  });

  it('refuses a stream into a pod that is not running anywhere', async () => {
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: unplaced}
spec:
  nodeSelector: {nowhere: 'true'}
  containers: [{name: c, image: busybox}]
`,
    );
    const r = await c.kubectlResult(['exec', 'unplaced', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pod unplaced does not have a host assigned/);
    expect(await eventsOf(c, 'unplaced')).toMatch(/FailedScheduling/);
  });
});

describe('resource metrics', () => {
  it('serves kubectl top for nodes and pods from the kubelet summaries, and Prometheus text on the kubelet API', async () => {
    const nodes = await c.kubectl('top', 'node', '--no-headers');
    expect(nodes).toMatch(new RegExp(`^${c.nodeName}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`));
    const pods = await c.kubectl('top', 'pod', 'shell', '--containers', '--no-headers');
    expect(pods).toMatch(/shell\s+app\s+\d+m\s+\d+Mi/);
    expect(pods).toMatch(/shell\s+talker\s+\d+m\s+\d+Mi/);
    const metrics = await c.kubectl('get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/shell`);
    expect(JSON.parse(metrics)).toMatchObject({
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'shell', namespace: 'default' },
      window: '10s',
      containers: expect.arrayContaining([
        expect.objectContaining({ name: 'app', usage: { cpu: expect.stringMatching(/^\d+n$/), memory: expect.stringMatching(/^\d+Ki$/) } }),
      ]),
    });
    const resource = await c.kubectl('get', '--raw', `/api/v1/nodes/${c.nodeName}/proxy/metrics/resource`);
    expect(resource).toMatch(/^# TYPE container_cpu_usage_seconds_total counter$/m);
    expect(resource).toMatch(/^container_memory_working_set_bytes\{container="app",namespace="default",pod="shell"\} \d+$/m);
    expect(resource).toMatch(/^node_cpu_usage_seconds_total \d+(\.\d+)?$/m);
    expect(await c.kubectl('get', '--raw', `/api/v1/nodes/${c.nodeName}/proxy/metrics`)).toMatch(/^kubelet_running_pods 1$/m);
  });
});

describe('the API from inside a pod', () => {
  it('mounts a bound service account token, the cluster CA and the namespace, and sets the KUBERNETES_* variables', async () => {
    const dirPath = '/var/run/secrets/kubernetes.io/serviceaccount';
    expect(
      await c.kubectl(
        'get',
        'pod',
        'shell',
        '-o',
        'jsonpath={.spec.serviceAccountName} {.spec.volumes[0].name} {.spec.containers[0].volumeMounts[0].mountPath}',
      ),
    ).toMatch(new RegExp(`^default kube-api-access-[0-9a-f]{5} ${dirPath}$`));
    expect(await c.kubectl('exec', 'shell', '-c', 'app', '--', 'cat', `${dirPath}/namespace`)).toBe('default');
    expect(await c.kubectl('exec', 'shell', '-c', 'app', '--', 'cat', `${dirPath}/ca.crt`)).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(
      await c.kubectl('exec', 'shell', '-c', 'talker', '--', 'sh', '-c', 'echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT $KUBERNETES_PORT_443_TCP'),
    ).toBe('10.96.0.1:443 tcp://10.96.0.1:443\n');
    // the token authenticates as the pod's service account, bound to the pod
    const token = await c.kubectl('exec', 'shell', '-c', 'app', '--', 'cat', `${dirPath}/token`);
    const cfg = JSON.parse(await c.kubectl('config', 'view', '--raw', '-o', 'json')) as {
      clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
    };
    const cluster = cfg.clusters[0]?.cluster;
    const review = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        `${cluster?.server}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
        {
          method: 'POST',
          ca: Buffer.from(cluster?.['certificate-authority-data'] ?? '', 'base64'),
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
    });
    expect(JSON.parse(review)).toMatchObject({
      status: { userInfo: { username: 'system:serviceaccount:default:default', extra: { 'authentication.kubernetes.io/pod-name': ['shell'] } } },
    });
  });

  it('leaves the token out when the pod turns automounting off', async () => {
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: tokenless}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`,
    );
    expect(await c.kubectl('get', 'pod', 'tokenless', '-o', 'jsonpath={.spec.volumes}{.spec.containers[0].volumeMounts}')).toBe('');
  });
});

describe('static pods', () => {
  const manifest = (greeting: string) => `
apiVersion: v1
kind: Pod
metadata: {name: keeper, namespace: kube-system, labels: {tier: node}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, command: [sh, -c, 'echo ${greeting}; exec sleep 3600']}]
`;
  const mirror = () => `keeper-${c.nodeName}`;
  const containerId = () => c.kubectl('get', 'pod', '-n', 'kube-system', mirror(), '-o', 'jsonpath={.status.containerStatuses[0].containerID}');

  it('runs a manifest from the static pod directory and mirrors it into the API, owned by the Node', async () => {
    await writeFile(join(dir, 'manifests', 'broken.yaml'), 'kind: Pod\nmetadata: {}\n');
    await writeFile(join(dir, 'manifests', 'keeper.yaml'), manifest('first'));
    await waitForJsonPath(c, ['pod', '-n', 'kube-system', mirror()], '{.status.phase}', 'Running', 60_000);
    const meta = await c.kubectl(
      'get',
      'pod',
      '-n',
      'kube-system',
      mirror(),
      '-o',
      'jsonpath={.metadata.annotations.kubernetes\\.io/config\\.source} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.spec.nodeName} {.metadata.labels.tier}',
    );
    expect(meta).toBe(`file Node/${c.nodeName} ${c.nodeName} node`);
    expect(await c.kubectl('get', 'pod', '-n', 'kube-system', mirror(), '-o', 'jsonpath={.metadata.annotations.kubernetes\\.io/config\\.mirror}')).toMatch(
      /^[0-9a-f]{32}$/,
    );
    await expect.poll(() => c.kubectl('logs', '-n', 'kube-system', mirror()), { timeout: 20_000 }).toBe('first\n');
  });

  it('puts a deleted mirror pod back without touching the container, and follows the manifest as it changes and goes', async () => {
    const before = await containerId();
    await c.kubectl('delete', 'pod', '-n', 'kube-system', mirror(), '--wait=true');
    await waitForJsonPath(c, ['pod', '-n', 'kube-system', mirror()], '{.status.containerStatuses[0].containerID}', before, 30_000);
    expect(await c.kubectl('get', 'pod', '-n', 'kube-system', mirror(), '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}')).toBe(
      'Running 0',
    );

    await writeFile(join(dir, 'manifests', 'keeper.yaml'), manifest('second'));
    await expect.poll(() => c.kubectlResult(['logs', '-n', 'kube-system', mirror()]).then((r) => r.stdout), { timeout: 60_000 }).toBe('second\n');
    expect(await containerId()).not.toBe(before);

    await rm(join(dir, 'manifests', 'keeper.yaml'));
    await expect.poll(async () => (await c.kubectlResult(['get', 'pod', '-n', 'kube-system', mirror()])).code, { timeout: 30_000 }).not.toBe(0);
    await expect
      .poll(async () => (await c.node.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': mirror() }, state: 'CONTAINER_RUNNING' })).length, {
        timeout: 30_000,
      })
      .toBe(0);
  });
});
