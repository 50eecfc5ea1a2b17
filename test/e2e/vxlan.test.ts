// Two lab nodes whose agents route to each other's pods through VXLAN
// (--flannel-backend vxlan): each publishes its device's MAC on its Node,
// each routes the other's pod CIDR through the tunnel, and a pod on one node
// reaches a pod on the other by its address. Traffic stays on the lab.
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
