// The official Python client (Debian's python3-kubernetes) against skiff:
// it spells booleans True/False, validates the required fields of typed
// status objects, and streams exec over WebSocket. Each check is a line of
// JSON from test/fixtures/python/client-checks.py.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifest, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../fixtures/python/client-checks.py', import.meta.url));
// Debian's interpreter, the one python3-kubernetes is installed for (whatever python3 is first on PATH)
const PYTHON = '/usr/bin/python3';

let c: TestCluster;

beforeAll(async () => {
  c = await startTestCluster('py', 224);
  await applyManifest(
    c,
    `
apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: ticker, image: busybox, command: [sh, -c, 'mkdir -p /www && echo pf-ok > /www/index.html && httpd -p 8080 -h /www && i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done']}
`,
  );
  await waitForJsonPath(c, ['pod', 'ticker'], '{.status.phase}', 'Running');
});

afterAll(async () => {
  await c?.teardown();
});

describe('the official Python client', () => {
  it('watches, reads typed status objects, execs, follows logs and forwards a port', async () => {
    const { stdout } = await run(PYTHON, [SCRIPT, c.kubeconfig, 'ticker'], { timeout: 120_000 });
    const checks = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { check: string })
        .map((r) => [r.check, r]),
    );
    expect(checks.watch).toEqual({ check: 'watch', events: [['MODIFIED', 'py-watched', 'w']] });
    expect(checks.status).toEqual({ check: 'status', daemonSet: 0, replicaSet: 0 });
    expect(checks.exec).toEqual({ check: 'exec', output: 'hello from exec\n' });
    expect(checks.follow).toEqual({ check: 'follow', lines: 4 });
    expect(checks.portforward).toEqual({ check: 'portforward', body: 'pf-ok' });
  });
});
