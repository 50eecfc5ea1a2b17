// Lab nodes lose power and network as machines do (skiff lab stop/start,
// partition/heal): a node powered off goes NotReady and its Deployment's pods
// are replaced on the other node; powered on, it is Ready again and runs
// nothing of the pods it lost. A node cut off the network loses its pods the
// same way; healed, it stops its stale copies, and no pod runs twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriClient } from '../../agent/index.ts';
import { waitFor } from '../../lab/index.ts';
import { applyManifest } from '../../lab/testbed/index.ts';
import { startTestLab, type TestLab } from '../../lab/testbed/index.ts';

let lab: TestLab;

beforeAll(async () => {
  // a node silent for 10 s is NotReady; the pods below tolerate that for 1 s
  lab = await startTestLab('labn', 242, 2, { serverArgs: ['--node-monitor-grace-period=10s', '--node-monitor-period=1s'] });
}, 180_000);

afterAll(async () => {
  await lab?.teardown();
}, 120_000);

type Placed = { name: string; node: string; phase: string; deleting: boolean };

async function pods(): Promise<Placed[]> {
  const out = await lab.kubectl(
    'get',
    'pods',
    '-l',
    'app=spread',
    '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}',
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, node, phase, deleting] = l.split(' ');
      return { name: name as string, node: node as string, phase: phase as string, deleting: !!deleting };
    });
}

const readyOf = async (node: string) => lab.kubectl('get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}');

/** The containers running in a lab node's containerd. */
async function runningContainers(i: number): Promise<number> {
  const cri = new CriClient((lab.nodes[i - 1] as TestLab['nodes'][number]).socket, { timeoutMs: 5000 });
  try {
    return (await cri.listContainers({ state: 'CONTAINER_RUNNING' })).length;
  } finally {
    cri.close();
  }
}

/** Waits until both replicas run, neither being deleted, all on `node`; returns them. */
async function allRunningOn(node: string): Promise<Placed[]> {
  let last: Placed[] = [];
  await waitFor(
    `both pods Running on ${node}`,
    async () => {
      last = await pods();
      const live = last.filter((p) => !p.deleting);
      return live.length === 2 && live.every((p) => p.phase === 'Running' && p.node === node);
    },
    90_000,
    500,
  );
  return last;
}

describe('lab nodes that lose power or network', () => {
  it('replaces the pods of a node powered off, and the node powered on runs none of them', async () => {
    await applyManifest(
      lab,
      `
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 2
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      terminationGracePeriodSeconds: 0
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 1}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 1}
      containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`,
    );
    await waitFor('both pods Running', async () => (await pods()).filter((p) => p.phase === 'Running').length === 2, 60_000, 500);
    // the node holding the first pod goes dark
    const lost = (await pods())[0]?.node as string;
    const i = lab.nodes.findIndex((n) => n.name === lost) + 1;
    const other = lab.nodes.find((n) => n.name !== lost)?.name as string;
    await lab.powerOff(i);
    await waitFor(`${lost} not Ready`, async () => (await readyOf(lost)) !== 'True', 60_000, 500);
    await allRunningOn(other);
    await lab.powerOn(i);
    await waitFor(`${lost} Ready again`, async () => (await readyOf(lost)) === 'True', 60_000, 500);
    // what it ran before it lost power is stopped and gone, in the API and in its runtime
    await waitFor(`nothing left on ${lost}`, async () => (await pods()).every((p) => p.node !== lost) && (await runningContainers(i)) === 0, 60_000, 500);
    expect((await pods()).map((p) => p.node)).toEqual([other, other]);
  }, 300_000);

  it('replaces the pods of a node cut off the network, and the healed node stops its stale copies: no pod runs twice', async () => {
    const cut = (await pods())[0]?.node as string;
    const i = lab.nodes.findIndex((n) => n.name === cut) + 1;
    const other = lab.nodes.find((n) => n.name !== cut)?.name as string;
    const before = await runningContainers(i);
    expect(before).toBe(2);
    await lab.link(i, false);
    await waitFor(`${cut} not Ready`, async () => (await readyOf(cut)) !== 'True', 60_000, 500);
    await allRunningOn(other);
    await lab.link(i, true);
    await waitFor(`${cut} Ready again`, async () => (await readyOf(cut)) === 'True', 60_000, 500);
    await waitFor(`${cut}'s stale copies stopped`, async () => (await pods()).every((p) => p.node !== cut) && (await runningContainers(i)) === 0, 60_000, 500);
    const final = await pods();
    expect(final.map((p) => `${p.node} ${p.phase}`)).toEqual([`${other} Running`, `${other} Running`]);
  }, 300_000);
});
