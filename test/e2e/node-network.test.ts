// The node's own network on a real node: hostPort through the portmap
// plugin, and a node CNI config that does not parse — the node goes
// NotReady saying why, pods already running keep running, and it is Ready
// again once the config is mended.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifest, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

let c: TestCluster;
const HOST_PORT = 18215;

beforeAll(async () => {
  c = await startTestCluster('netw', 215);
});

afterAll(async () => {
  await c?.teardown();
});

const readyCondition = () =>
  c.kubectl('get', 'node', c.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}');

describe('the node network', () => {
  it('publishes a hostPort on the node', async () => {
    await applyManifest(
      c,
      `
apiVersion: v1
kind: Pod
metadata: {name: published}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: [sh, -c, 'mkdir -p /www && echo from-the-pod > /www/index.html && exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080, hostPort: ${HOST_PORT}}]
`,
    );
    await waitForJsonPath(c, ['pod', 'published'], '{.status.phase}', 'Running');
    const gateway = c.node.subnet.replace(/\.0\/24$/, '.1');
    await expect
      .poll(
        async () =>
          (
            await fetch(`http://${gateway}:${HOST_PORT}/`, { signal: AbortSignal.timeout(2000) }).then(
              (r) => r.text(),
              () => '',
            )
          ).trim(),
        { timeout: 15_000 },
      )
      .toBe('from-the-pod');
  });

  it('goes NotReady with the reason while its CNI config does not parse, and back once mended', async () => {
    const bad = join(c.node.cniConfDir, '00-broken.conflist');
    await writeFile(bad, '{ "cniVersion": "1.0.0", "name": ');
    try {
      await expect
        .poll(readyCondition, { timeout: 30_000 })
        .toMatch(
          /^False container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: .*00-broken\.conflist: not valid JSON/,
        );
      // what runs keeps running
      expect(await c.kubectl('get', 'pod', 'published', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}')).toBe('Running 0');
    } finally {
      await rm(bad, { force: true });
    }
    await expect.poll(readyCondition, { timeout: 30_000 }).toMatch(/^True /);
  });
});
