// A three-node lab on this host (each node a network namespace with its own
// containerd and agent; each agent routes to the other nodes' pod CIDRs): Services reach pods on
// other nodes through the ClusterIP and the NodePort, names resolve through
// the cluster DNS from every node, and externalTrafficPolicy Local keeps
// NodePort traffic on nodes that have an endpoint. Traffic goes only to the
// lab's own nodes, pods and Services.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_PROTOCOL } from '../../agent/network/index.ts';
import { BUNDLED_CSI_DRIVER, DEFAULT_STORAGE_CLASS, labHostAddress, waitFor } from '../../lab/index.ts';
import { applyManifest, echoDeployment, endpointsReady, waitForJsonPath } from '../../lab/testbed/index.ts';
import { startTestLab, type TestLab } from '../../lab/testbed/index.ts';

const run = promisify(execFile);
let lab: TestLab;

beforeAll(async () => {
  lab = await startTestLab('mnode', 230, 3);
}, 180_000);

afterAll(async () => {
  await lab?.teardown();
});

const node = (i: number) => lab.nodes[i - 1] as TestLab['nodes'][number];

/** A one-off client pod on one node; returns its log. */
async function clientOn(nodeIndex: number, name: string, script: string): Promise<string> {
  await applyManifest(
    lab,
    `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeName: ${node(nodeIndex).name}
  restartPolicy: Never
  containers: [{name: c, image: busybox, command: [sh, -c, ${JSON.stringify(script)}]}]
`,
  );
  await waitForJsonPath(lab, ['pod', name], '{.status.phase}', /^(Succeeded|Failed)$/, 60_000);
  return lab.kubectl('logs', name);
}

/** GET over HTTP from this host, or undefined when nothing answers within 2 s. */
async function get(url: string): Promise<string | undefined> {
  try {
    return (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text()).trim();
  } catch {
    return undefined;
  }
}

describe('a multi-node lab', () => {
  it("has each agent route to the other nodes' pod CIDRs through their addresses (host-gw), and only those", async () => {
    const routesOf = async (netns: string) =>
      (JSON.parse((await run('ip', ['-n', netns, '-j', 'route', 'show', 'proto', ROUTE_PROTOCOL])).stdout) as { dst: string; gateway: string }[])
        .map((r) => `${r.dst} via ${r.gateway}`)
        .sort();
    for (const n of lab.nodes) {
      const wanted = lab.nodes
        .filter((o) => o !== n)
        .map((o) => `${o.podCidr} via ${o.ip}`)
        .sort();
      // the agent adds them as it sees the other Nodes
      await waitFor(`${n.name}'s routes`, async () => JSON.stringify(await routesOf(n.netns)) === JSON.stringify(wanted), 10_000, 100);
      expect(await routesOf(n.netns)).toEqual(wanted);
    }
  });

  it('spreads a Deployment over the nodes and reaches every backend through the ClusterIP, by name, from any node', async () => {
    await applyManifest(lab, echoDeployment(3, { spread: true }));
    await lab.kubectl('rollout', 'status', 'deployment/echo', '--timeout=90s');
    await lab.kubectl('expose', 'deployment', 'echo', '--port=80', '--target-port=8080', '--type=NodePort');
    const placed = await lab.kubectl('get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}');
    expect(new Set(placed.trim().split('\n')).size).toBe(3);
    const backends = (await lab.kubectl('get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').sort();
    await expect.poll(() => endpointsReady(lab, 'echo'), { timeout: 30_000 }).toBe('true true true');
    const clusterIP = await lab.kubectl('get', 'service', 'echo', '-o', 'jsonpath={.spec.clusterIP}');
    // from node 1, 30 requests reach the backends on all three nodes
    const answers = (await clientOn(1, 'caller', `for i in $(seq 30); do wget -qO- http://${clusterIP}/; done`)).split('\n').filter(Boolean);
    expect(answers).toHaveLength(30);
    expect([...new Set(answers)].sort()).toEqual(backends);
    // from node 3, by name through the cluster DNS
    const byName = await clientOn(3, 'resolver', 'nslookup echo.default.svc.cluster.local; wget -qO- http://echo/');
    expect(byName).toContain(`Address: ${clusterIP}`);
    expect(backends).toContain(byName.trim().split('\n').at(-1));
    // a headless Service resolves to its pods' own addresses; AAAA for an IPv4 Service is NODATA, not NXDOMAIN
    await applyManifest(
      lab,
      `
apiVersion: v1
kind: Service
metadata: {name: echo-direct}
spec:
  clusterIP: None
  selector: {app: echo}
  ports: [{port: 8080}]
`,
    );
    const podIPs = (await lab.kubectl('get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={.items[*].status.podIP}')).split(' ').sort();
    await expect.poll(() => endpointsReady(lab, 'echo-direct'), { timeout: 30_000 }).toBe('true true true');
    const direct = await clientOn(
      2,
      'headless',
      'nslookup echo-direct.default.svc.cluster.local; nslookup -type=AAAA echo.default.svc.cluster.local; echo "aaaa exit $?"',
    );
    expect([...direct.matchAll(/Address: (10\.244\.\d+\.\d+)/g)].map((m) => m[1]).sort()).toEqual(podIPs);
    expect(direct).not.toContain('NXDOMAIN');
    expect(direct).toContain('aaaa exit 0');
  });

  it('lets pods reach the API server as in-cluster clients do: the kubernetes Service by name, its endpoints the server', async () => {
    const address = await lab.kubectl('get', 'endpoints', 'kubernetes', '-o', 'jsonpath={.subsets[0].addresses[*].ip}');
    expect(address).toBe(labHostAddress({ lanPrefix: '10.255.230' }));
    // from a pod: the name resolves and the cluster IP leads to the server, which answers TLS (busybox's TLS client and
    // the server agree on no cipher, so the handshake ends with the server's alert; with no endpoints it would be refused)
    const script =
      'timeout 10 wget -q -O- --no-check-certificate https://kubernetes.default.svc/api; echo "host=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"';
    const out = await clientOn(2, 'in-cluster', script);
    expect(out).toMatch(/TLS error from peer/);
    expect(out).toMatch(/^host=10\.96\.0\.1:443$/m);
  });

  it('execs into pods on every node (streams served on the lab network)', async () => {
    const pods = (await lab.kubectl('get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}'))
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(new Set(pods.map(([, node]) => node)).size).toBe(3);
    for (const [name] of pods) expect(await lab.kubectl('exec', name as string, '--', 'hostname')).toBe(`${name}\n`);
  });

  it('answers the NodePort on every node, from this host and from a pod on another node', async () => {
    const nodePort = await lab.kubectl('get', 'service', 'echo', '-o', 'jsonpath={.spec.ports[0].nodePort}');
    const backends = (await lab.kubectl('get', 'pods', '-l', 'app=echo', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ');
    for (const i of [1, 2, 3]) expect(backends).toContain(await get(`http://${node(i).ip}:${nodePort}/`));
    const fromPod = await clientOn(2, 'np-caller', `wget -qO- http://${node(3).ip}:${nodePort}/`);
    expect(backends).toContain(fromPod.trim());
  });

  it('keeps externalTrafficPolicy Local NodePort traffic on the node that has the endpoint', async () => {
    await applyManifest(
      lab,
      `
apiVersion: v1
kind: Pod
metadata: {name: only-on-2, labels: {app: local}}
spec:
  nodeName: ${node(2).name}
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
---
apiVersion: v1
kind: Service
metadata: {name: local}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: local}
  ports: [{port: 80, targetPort: 8080}]
`,
    );
    await waitForJsonPath(lab, ['pod', 'only-on-2'], '{.status.containerStatuses[0].ready}', 'true');
    const nodePort = await lab.kubectl('get', 'service', 'local', '-o', 'jsonpath={.spec.ports[0].nodePort}');
    await expect.poll(() => get(`http://${node(2).ip}:${nodePort}/`), { timeout: 20_000 }).toBe('only-on-2');
    // node 3 has no endpoint of its own: it drops rather than forwarding
    expect(await get(`http://${node(3).ip}:${nodePort}/`)).toBeUndefined();
  });

  it("keeps internalTrafficPolicy Local ClusterIP traffic on the client's node", async () => {
    await applyManifest(
      lab,
      `
apiVersion: v1
kind: Service
metadata: {name: local-internal}
spec:
  internalTrafficPolicy: Local
  selector: {app: local}
  ports: [{port: 80, targetPort: 8080}]
`,
    );
    const clusterIP = await lab.kubectl('get', 'service', 'local-internal', '-o', 'jsonpath={.spec.clusterIP}');
    await expect.poll(() => endpointsReady(lab, 'local-internal'), { timeout: 30_000 }).toBe('true');
    // from node 2 (where the endpoint is) it answers; from node 3 nothing answers (busybox timeout bounds the wait)
    const call = `for i in $(seq 20); do timeout 2 wget -qO- http://${clusterIP}/ && exit 0; sleep 0.5; done; echo unanswered`;
    expect((await clientOn(2, 'internal-2', call)).trim()).toBe('only-on-2');
    const fromNode3 = await clientOn(3, 'internal-3', `timeout 3 wget -qO- http://${clusterIP}/ || echo unanswered`);
    expect(fromNode3).toContain('unanswered');
    expect(fromNode3).not.toContain('only-on-2');
  });

  it('takes a pod that turns unready out of the rotation, on every node', async () => {
    // readiness follows a label, seen by the pod through a downward API file
    const readyByLabel = (name: string, nodeIndex: number) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: flip, serve: "yes"}}
spec:
  nodeName: ${node(nodeIndex).name}
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
    readinessProbe: {exec: {command: [grep, -q, 'serve="yes"', /etc/podinfo/labels]}, periodSeconds: 1}
    volumeMounts: [{name: podinfo, mountPath: /etc/podinfo}]
  volumes: [{name: podinfo, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}]
`;
    await applyManifest(
      lab,
      `${readyByLabel('steady', 1)}---${readyByLabel('flipping', 2)}---
apiVersion: v1
kind: Service
metadata: {name: flip}
spec:
  selector: {app: flip}
  ports: [{port: 80, targetPort: 8080}]
`,
    );
    for (const p of ['steady', 'flipping']) await waitForJsonPath(lab, ['pod', p], '{.status.containerStatuses[0].ready}', 'true');
    const clusterIP = await lab.kubectl('get', 'service', 'flip', '-o', 'jsonpath={.spec.clusterIP}');
    const callers = (name: string) => clientOn(3, name, `for i in $(seq 20); do wget -qO- http://${clusterIP}/; done`);
    await expect.poll(() => endpointsReady(lab, 'flip'), { timeout: 30_000 }).toBe('true true');
    expect([...new Set((await callers('before')).split('\n').filter(Boolean))].sort()).toEqual(['flipping', 'steady']);
    await lab.kubectl('label', 'pod', 'flipping', 'serve=no', '--overwrite');
    await waitForJsonPath(lab, ['pod', 'flipping'], '{.status.conditions[?(@.type=="Ready")].status}', 'False', 30_000);
    await expect.poll(() => endpointsReady(lab, 'flip'), { timeout: 30_000 }).toMatch(/^(true false|false true)$/);
    // the proxies of all nodes follow within their sync: give them a moment, then every answer is the ready pod's
    await new Promise((r) => setTimeout(r, 1000));
    expect([...new Set((await callers('after')).split('\n').filter(Boolean))]).toEqual(['steady']);
  });

  it("provisions each StatefulSet claim on its pod's node, and brings a replaced pod back to where its volume is", async () => {
    await applyManifest(lab, JSON.stringify(BUNDLED_CSI_DRIVER));
    await applyManifest(lab, JSON.stringify(DEFAULT_STORAGE_CLASS));
    await applyManifest(
      lab,
      `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: db}}}]
      containers: [{name: c, image: busybox, command: [sh, -c, 'hostname >> /data/seen; cat /data/seen; exec sleep 3600'], volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 16Mi}}}
`,
    );
    await lab.kubectl('rollout', 'status', 'statefulset/db', '--timeout=120s');
    const placement = async (i: number) => {
      const podNode = await lab.kubectl('get', 'pod', `db-${i}`, '-o', 'jsonpath={.spec.nodeName}');
      const pv = await lab.kubectl('get', 'pvc', `data-db-${i}`, '-o', 'jsonpath={.spec.volumeName}');
      const volumeNode = await lab.kubectl('get', 'pv', pv, '-o', 'jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}');
      return { podNode, volumeNode };
    };
    const placed = await Promise.all([0, 1, 2].map(placement));
    for (const p of placed) expect(p.volumeNode).toBe(p.podNode);
    expect(new Set(placed.map((p) => p.podNode)).size).toBe(3);

    // a replaced pod can only go where its volume is, and finds its bytes there
    await lab.kubectl('delete', 'pod', 'db-1', '--wait=true');
    await waitForJsonPath(lab, ['pod', 'db-1'], '{.status.phase}', 'Running', 90_000);
    expect((await placement(1)).podNode).toBe(placed[1]?.podNode);
    await expect.poll(() => lab.kubectl('logs', 'db-1'), { timeout: 20_000 }).toBe('db-1\ndb-1\n');

    // a pod that must run elsewhere than its volume cannot be scheduled
    const elsewhere = placed[0]?.podNode;
    await applyManifest(
      lab,
      `
apiVersion: v1
kind: Pod
metadata: {name: stray}
spec:
  nodeSelector: {kubernetes.io/hostname: ${elsewhere}}
  containers: [{name: c, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /data}]}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data-db-1}}]
`,
    );
    await waitForJsonPath(
      lab,
      ['pod', 'stray'],
      '{.status.conditions[?(@.type=="PodScheduled")].message}',
      /0\/3 nodes are available: .*1 node\(s\) had volume node affinity conflict/,
    );
  });
});
