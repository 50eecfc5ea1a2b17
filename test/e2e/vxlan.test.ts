// Two lab nodes whose agents route to each other's pods through VXLAN
// (--flannel-backend vxlan): each publishes its device's MAC on its Node,
// each routes the other's pod CIDR through the tunnel, and a pod on one node
// reaches a pod on the other by its address. On the same two nodes,
// NetworkPolicy is judged by the whole reachability matrix of nine pods
// against a model of the policies. Traffic stays on the lab.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_PROTOCOL, VTEP_MAC_ANNOTATION, VXLAN_DEVICE } from '../../agent/network/index.ts';
import { waitFor } from '../../lab/index.ts';
import { applyManifest, waitForJsonPath } from '../../lab/testbed/index.ts';
import { startTestLab, type TestLab } from '../../lab/testbed/index.ts';

const run = promisify(execFile);
let lab: TestLab;

beforeAll(async () => {
  lab = await startTestLab('vxlan', 240, 2, { flannelBackend: 'vxlan' });
}, 180_000);

afterAll(async () => {
  await lab?.teardown();
});

describe('node routes over VXLAN', () => {
  it("routes each node to the other's pods through the tunnel, and a pod reaches a pod on the other node", async () => {
    const [a, b] = lab.nodes as [TestLab['nodes'][number], TestLab['nodes'][number]];
    for (const [n, other] of [
      [a, b],
      [b, a],
    ] as const) {
      // published once the device is made, which may be after the node is Ready
      const mac = () => lab.kubectl('get', 'node', n.name, '-o', `jsonpath={.metadata.annotations.${VTEP_MAC_ANNOTATION.replace(/\./g, '\\.')}}`);
      await expect.poll(mac, { timeout: 30_000 }).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      const routes = async () => (await run('ip', ['-n', n.netns, 'route', 'show', 'proto', ROUTE_PROTOCOL])).stdout.trim();
      const wanted = `${other.podCidr} via ${other.podCidr.split('/')[0]} dev ${VXLAN_DEVICE} onlink`;
      await waitFor(`${n.name}'s route over VXLAN`, async () => (await routes()) === wanted, 10_000, 100);
    }
    await applyManifest(
      lab,
      `
apiVersion: v1
kind: Pod
metadata: {name: vx-server}
spec:
  nodeName: ${a.name}
  containers: [{name: c, image: busybox, command: [sh, -c, 'echo across > /tmp/index.html; httpd -f -p 8080 -h /tmp']}]
`,
    );
    await waitForJsonPath(lab, ['pod', 'vx-server'], '{.status.phase}', 'Running');
    const ip = await lab.kubectl('get', 'pod', 'vx-server', '-o', 'jsonpath={.status.podIP}');
    await applyManifest(
      lab,
      `
apiVersion: v1
kind: Pod
metadata: {name: vx-client}
spec:
  nodeName: ${b.name}
  restartPolicy: Never
  containers: [{name: c, image: busybox, command: [sh, -c, 'for i in 1 2 3 4 5; do timeout 3 wget -qO- http://${ip}:8080/ && exit 0; sleep 1; done; exit 1']}]
`,
    );
    await waitForJsonPath(lab, ['pod', 'vx-client'], '{.status.phase}', /^(Succeeded|Failed)$/);
    expect((await lab.kubectl('logs', 'vx-client')).trim()).toBe('across');
  }, 120_000);
});

// NetworkPolicy across the two nodes, in the spirit of upstream's policy e2e: namespaces x, y, z with pods
// a, b, c each (a and c on the first node, b on the second) serving HTTP on ports 80 and 81; for each
// set of policies every pod probes every pod on both ports, and the matrix it sees must be the one a
// model of the policies predicts. (TCP only: our images, built from Debian's busybox, have no UDP tool.)
const NAMESPACES = ['x', 'y', 'z'] as const;
const PODS = ['a', 'b', 'c'] as const;
const PORTS = [80, 81] as const;
/** stands for the second node's pod CIDR in a case's policies until the lab is up */
const SECOND_NODE_PODS = 'second-node-pods';

interface MatrixPod {
  ns: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
}

/** One peer of a policy rule as the model reads it. */
interface ModelPeer {
  podSelector?: Record<string, string>;
  namespaceSelector?: Record<string, string>;
  ipBlock?: { cidr: string; except?: string[] };
}
interface ModelRule {
  peers?: ModelPeer[];
  ports?: { port?: number | string; endPort?: number }[];
}
interface ModelPolicy {
  name: string;
  ns: string;
  podSelector: Record<string, string>;
  types: ('Ingress' | 'Egress')[];
  ingress?: ModelRule[];
  egress?: ModelRule[];
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const nsLabels = (ns: string): Record<string, string> => ({ 'kubernetes.io/metadata.name': ns, team: ns === 'z' ? 'ops' : 'dev' });
const inCidr = (ip: string, cidr: string) => {
  const [base, bits] = cidr.split('/') as [string, string];
  const n = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
};

/** Whether `peer` (of a policy in `policyNs`) takes in `other`. */
function peerTakes(peer: ModelPeer, policyNs: string, other: MatrixPod): boolean {
  if (peer.ipBlock) return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e) => inCidr(other.ip, e));
  const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector, nsLabels(other.ns)) : other.ns === policyNs;
  return nsOk && (!peer.podSelector || matches(peer.podSelector, other.labels));
}

/** Whether traffic from `src` to `dst` on `port` passes, by the policies' own rules (Kubernetes' semantics, written apart from the agent's). */
function modelAllows(policies: ModelPolicy[], src: MatrixPod, dst: MatrixPod, port: number): boolean {
  // a pod reaching itself never leaves it (upstream's model allows loopback too)
  if (src === dst) return true;
  const side = (pod: MatrixPod, other: MatrixPod, type: 'Ingress' | 'Egress') => {
    const selecting = policies.filter((p) => p.ns === pod.ns && p.types.includes(type) && matches(p.podSelector, pod.labels));
    if (!selecting.length) return true;
    return selecting.some((p) =>
      ((type === 'Ingress' ? p.ingress : p.egress) ?? []).some(
        (r) =>
          (!r.peers?.length || r.peers.some((peer) => peerTakes(peer, p.ns, other))) &&
          (!r.ports?.length ||
            r.ports.some(
              (q) =>
                q.port === undefined ||
                q.port === port ||
                q.port === `serve-${port}` ||
                (typeof q.port === 'number' && q.endPort !== undefined && port >= q.port && port <= q.endPort),
            )),
      ),
    );
  };
  return side(src, dst, 'Egress') && side(dst, src, 'Ingress');
}

const toManifest = (p: ModelPolicy) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: p.name, namespace: p.ns },
  spec: {
    podSelector: { matchLabels: p.podSelector },
    policyTypes: p.types,
    ...Object.fromEntries(
      (['ingress', 'egress'] as const)
        .filter((d) => p[d])
        .map((d) => [
          d,
          (p[d] as ModelRule[]).map((r) => ({
            ...(r.peers
              ? {
                  [d === 'ingress' ? 'from' : 'to']: r.peers.map((peer) => ({
                    ...(peer.podSelector ? { podSelector: { matchLabels: peer.podSelector } } : {}),
                    ...(peer.namespaceSelector ? { namespaceSelector: { matchLabels: peer.namespaceSelector } } : {}),
                    ...(peer.ipBlock ? { ipBlock: peer.ipBlock } : {}),
                  })),
                }
              : {}),
            ...(r.ports ? { ports: r.ports.map((q) => ({ protocol: 'TCP', ...q })) } : {}),
          })),
        ]),
    ),
  },
});

describe('NetworkPolicy across two nodes: the reachability matrix', () => {
  const pods: MatrixPod[] = [];

  beforeAll(async () => {
    const [first, second] = lab.nodes as [TestLab['nodes'][number], TestLab['nodes'][number]];
    const docs: string[] = [];
    for (const ns of NAMESPACES) {
      docs.push(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: nsLabels(ns).team } } }));
      for (const name of PODS)
        docs.push(
          JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, namespace: ns, labels: { pod: name } },
            spec: {
              nodeName: name === 'b' ? second.name : first.name,
              terminationGracePeriodSeconds: 0,
              containers: [
                {
                  name: 'serve',
                  image: 'busybox',
                  command: ['sh', '-c', 'echo ok > /tmp/index.html; httpd -p 80 -h /tmp; exec httpd -f -p 81 -h /tmp'],
                  ports: PORTS.map((p) => ({ name: `serve-${p}`, containerPort: p })),
                },
              ],
            },
          }),
        );
    }
    await applyManifest(lab, docs.join('\n---\n'));
    for (const ns of NAMESPACES)
      for (const name of PODS) {
        await waitForJsonPath(lab, ['pod', name, '-n', ns], '{.status.phase}', 'Running', 60_000);
        pods.push({ ns, name, labels: { pod: name }, ip: await lab.kubectl('get', 'pod', name, '-n', ns, '-o', 'jsonpath={.status.podIP}') });
      }
  }, 120_000);

  const key = (src: MatrixPod, dst: MatrixPod, port: number) => `${src.ns}/${src.name} -> ${dst.ns}/${dst.name}:${port}`;
  const expected = (policies: ModelPolicy[]) =>
    pods.flatMap((s) => pods.flatMap((d) => PORTS.map((port) => `${key(s, d, port)} ${modelAllows(policies, s, d, port) ? 'ok' : 'no'}`))).sort();
  /** What every pod reaches now: each pod probes all 18 targets at once. */
  const observed = async () =>
    (
      await Promise.all(
        pods.map(async (s) => {
          const probes = pods.flatMap((d) =>
            PORTS.map((port) => `(timeout 1 wget -q -O /dev/null http://${d.ip}:${port}/ && echo '${key(s, d, port)} ok' || echo '${key(s, d, port)} no') &`),
          );
          return (await lab.kubectl('exec', '-n', s.ns, s.name, '--', 'sh', '-c', `${probes.join('\n')}\nwait`)).trim().split('\n');
        }),
      )
    )
      .flat()
      .sort();

  const cases: [string, ModelPolicy[]][] = [
    ['no policy: everything reaches everything', []],
    ['deny all ingress in x', [{ name: 'deny', ns: 'x', podSelector: {}, types: ['Ingress'] }]],
    [
      'allow into x from namespace y only (namespaceSelector)',
      [{ name: 'from-y', ns: 'x', podSelector: {}, types: ['Ingress'], ingress: [{ peers: [{ namespaceSelector: { 'kubernetes.io/metadata.name': 'y' } }] }] }],
    ],
    [
      'allow into x/a from pods b of namespaces of team ops (both selectors in one peer), on port 81',
      [
        {
          name: 'ops-b',
          ns: 'x',
          podSelector: { pod: 'a' },
          types: ['Ingress'],
          ingress: [{ peers: [{ namespaceSelector: { team: 'ops' }, podSelector: { pod: 'b' } }], ports: [{ port: 81 }] }],
        },
      ],
    ],
    [
      'allow into y by named port serve-80 from anywhere, and into z on the range 80-81 from its own pods c',
      [
        { name: 'named', ns: 'y', podSelector: {}, types: ['Ingress'], ingress: [{ ports: [{ port: 'serve-80' }] }] },
        {
          name: 'range',
          ns: 'z',
          podSelector: {},
          types: ['Ingress'],
          ingress: [{ peers: [{ podSelector: { pod: 'c' } }], ports: [{ port: 80, endPort: 81 }] }],
        },
      ],
    ],
    ['deny all egress from x', [{ name: 'no-out', ns: 'x', podSelector: {}, types: ['Egress'] }]],
    [
      "allow egress from y only to the second node's pods (ipBlock), and from z/a only to port 80",
      [
        { name: 'to-second', ns: 'y', podSelector: {}, types: ['Egress'], egress: [{ peers: [{ ipBlock: { cidr: SECOND_NODE_PODS } }] }] },
        { name: 'a-80', ns: 'z', podSelector: { pod: 'a' }, types: ['Egress'], egress: [{ ports: [{ port: 80 }] }] },
      ],
    ],
    [
      'policies adding up: ingress into x allowed from y by one policy and from z/c by another, egress from x/b to namespace y only',
      [
        { name: 'from-y', ns: 'x', podSelector: {}, types: ['Ingress'], ingress: [{ peers: [{ namespaceSelector: { 'kubernetes.io/metadata.name': 'y' } }] }] },
        {
          name: 'from-zc',
          ns: 'x',
          podSelector: {},
          types: ['Ingress'],
          ingress: [{ peers: [{ namespaceSelector: { team: 'ops' }, podSelector: { pod: 'c' } }] }],
        },
        {
          name: 'b-out',
          ns: 'x',
          podSelector: { pod: 'b' },
          types: ['Egress'],
          egress: [{ peers: [{ namespaceSelector: { 'kubernetes.io/metadata.name': 'y' } }] }],
        },
      ],
    ],
  ];

  for (const [title, policies] of cases) {
    it(title, async () => {
      // the case's policies take the place of the last case's
      await lab.kubectl('delete', 'networkpolicies', '--all', '-A', '--wait=true');
      // the ipBlock case names the second node's pod CIDR, known once the lab is up
      const podCidr = (lab.nodes[1] as TestLab['nodes'][number]).podCidr;
      const resolved = policies.map((p) => ({
        ...p,
        egress: p.egress?.map((r) => ({
          ...r,
          peers: r.peers?.map((peer) => (peer.ipBlock?.cidr === SECOND_NODE_PODS ? { ipBlock: { cidr: podCidr } } : peer)),
        })),
      }));
      if (resolved.length) await applyManifest(lab, resolved.map((p) => JSON.stringify(toManifest(p))).join('\n---\n'));
      const want = expected(resolved);
      // the agents apply a change within moments; the matrix is probed until it settles on the model's
      await expect.poll(observed, { timeout: 30_000, interval: 500 }).toEqual(want);
    }, 60_000);
  }
});
