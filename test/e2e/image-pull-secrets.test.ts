import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_IMAGE } from '../../agent/cri/index.ts';
import { PULL_PASSWORD, PULL_USER, startAuthRegistry, type AuthRegistry } from '../harness/auth-registry.ts';
import { eventsOf, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';

// Pulls from a registry that wants a password: every image name of this
// node resolves to it, and only pods with the credentials in an
// imagePullSecret (their own, or their service account's) get their image.

let dir: string;
let registry: AuthRegistry | undefined;
let c: TestCluster | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-pull-'));
  registry = await startAuthRegistry(dir);
  c = await startTestCluster('pull', 221, { registry: registry.address });
  // the sandbox image comes from that registry too; containerd pulls it without credentials
  await c.node.cri.pullImage(DEFAULT_SANDBOX_IMAGE, { username: PULL_USER, password: PULL_PASSWORD });
}, 180_000);

afterAll(async () => {
  await c?.teardown();
  await registry?.stop();
  if (!process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
});

const cluster = () => c as TestCluster;
const pod = (name: string, secrets?: string[]) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      ...(secrets ? { imagePullSecrets: secrets.map((s) => ({ name: s })) } : {}),
      containers: [{ name: 'c', image: 'busybox', imagePullPolicy: 'Always', command: ['echo', 'pulled'] }],
    },
  });
const run = async (name: string, secrets?: string[]) => {
  const r = await cluster().kubectlResult(['apply', '-f', '-'], pod(name, secrets));
  expect(r.code, r.stderr).toBe(0);
};

describe('imagePullSecrets', () => {
  it('cannot pull without credentials: ErrImagePull, then ImagePullBackOff', async () => {
    await run('anonymous');
    await waitForJsonPath(cluster(), ['pod', 'anonymous'], '{.status.containerStatuses[0].state.waiting.reason}', /^(ErrImagePull|ImagePullBackOff)$/, 60_000);
    await expect
      .poll(() => eventsOf(cluster(), 'anonymous'), { timeout: 30_000 })
      .toMatch(/Failed: Failed to pull image "busybox": .*(401 Unauthorized|unauthorized)/i);
  });

  it('pulls with a docker-registry secret the pod names', async () => {
    await cluster().kubectl('create', 'secret', 'docker-registry', 'regcred', `--docker-username=${PULL_USER}`, `--docker-password=${PULL_PASSWORD}`);
    await run('credentialed', ['regcred']);
    await waitForJsonPath(cluster(), ['pod', 'credentialed'], '{.status.phase}', 'Succeeded', 60_000);
    expect(await cluster().kubectl('logs', 'credentialed')).toBe('pulled\n');
  });

  it("gives a pod its service account's pull secrets", async () => {
    await cluster().kubectl('patch', 'serviceaccount', 'default', '-p', '{"imagePullSecrets":[{"name":"regcred"}]}');
    await run('inherited');
    expect(await cluster().kubectl('get', 'pod', 'inherited', '-o', 'jsonpath={.spec.imagePullSecrets[*].name}')).toBe('regcred');
    await waitForJsonPath(cluster(), ['pod', 'inherited'], '{.status.phase}', 'Succeeded', 60_000);
  });

  it('says which pull secrets it could not read, and still tries the others', async () => {
    await run('partly', ['missing', 'regcred']);
    await waitForJsonPath(cluster(), ['pod', 'partly'], '{.status.phase}', 'Succeeded', 60_000);
    expect(await eventsOf(cluster(), 'partly')).toContain(
      'FailedToRetrieveImagePullSecret: Unable to retrieve some image pull secrets (missing); attempting to pull the image may not succeed.',
    );
  });
});
