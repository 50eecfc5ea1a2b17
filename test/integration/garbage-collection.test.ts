// Node-level reclaim on a real containerd: image garbage collection keeps
// what containers use and the sandbox image, and the disk-pressure reclaim of
// dead containers takes only finished pods' containers.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../apimachinery/index.ts';
import type { PodSandboxConfig } from '../../agent/cri/index.ts';
import { ImageGC, removeFinishedPodsContainers } from '../../agent/gc/index.ts';
import { MANAGED_BY, POD_UID } from '../../agent/pods/index.ts';
import { startTestNode, type TestNode } from '../../lab/testbed/index.ts';

const NODE = 'gc-itest-node';
const BUSYBOX = 'docker.io/library/busybox:latest';
const IDLE = 'docker.io/skiff/idle:1';
const PAUSE = 'registry.k8s.io/pause:3.10';

let node: TestNode;
const sandboxes: string[] = [];

/** A host-network sandbox (no CNI needed) labelled as the agent labels its pods. */
async function sandbox(uid: string): Promise<{ id: string; config: PodSandboxConfig }> {
  const logDirectory = join(node.dir, 'logs', uid);
  await mkdir(logDirectory, { recursive: true });
  const config: PodSandboxConfig = {
    metadata: { name: uid, namespace: 'gc', uid, attempt: 0 },
    logDirectory,
    labels: { [MANAGED_BY]: NODE, [POD_UID]: uid },
    linux: { securityContext: { namespaceOptions: { network: 'NODE' } } },
  };
  const id = await node.cri.runPodSandbox(config);
  sandboxes.push(id);
  return { id, config };
}

async function container(sb: { id: string; config: PodSandboxConfig }, name: string, command: string[]): Promise<string> {
  const id = await node.cri.createContainer(
    sb.id,
    { metadata: { name, attempt: 0 }, image: { image: BUSYBOX }, command, logPath: `${name}.log`, labels: sb.config.labels },
    sb.config,
  );
  await node.cri.startContainer(id);
  return id;
}

const tags = async () => (await node.cri.listImages()).flatMap((i) => i.repoTags);

beforeAll(async () => {
  node = await startTestNode('gc', 206);
  await node.cri.pullImage(BUSYBOX);
  await node.cri.pullImage(IDLE);
});

afterAll(async () => {
  for (const id of sandboxes) {
    await node.cri.stopPodSandbox(id).catch(() => undefined);
    await node.cri.removePodSandbox(id).catch(() => undefined);
  }
  await node?.teardown();
});

describe('garbage collection on a real containerd', () => {
  it('removes the unused image past the high threshold and keeps the used one and the sandbox image', async () => {
    const running = await sandbox('uid-running');
    await container(running, 'sleeper', ['sleep', '3600']);
    expect(await tags()).toEqual(expect.arrayContaining([BUSYBOX, IDLE, PAUSE]));
    const events: string[] = [];
    // any usage at all is past a 1% threshold: collect down to 0%
    const gc = new ImageGC({
      cri: node.cri,
      policy: { highThresholdPercent: 1, lowThresholdPercent: 0, minAgeMs: 0, maxAgeMs: 0 },
      protectedImages: [PAUSE],
      log: silentLogger,
      nodeEvent: (_t, reason) => events.push(reason),
    });
    await gc.garbageCollect();
    const left = await tags();
    expect(left).not.toContain(IDLE);
    expect(left).toEqual(expect.arrayContaining([BUSYBOX, PAUSE]));
    // the disk could not be brought down to 0% by removing one small image: it says so
    expect(events).toEqual(['ImageGCFailed']);
  });

  it('reclaims the dead containers of finished pods only', async () => {
    const finished = await sandbox('uid-finished');
    const live = await sandbox('uid-live');
    const done = await container(finished, 'done', ['true']);
    const previous = await container(live, 'crashed', ['false']);
    for (let i = 0; i < 100 && (await node.cri.listContainers({ state: 'CONTAINER_EXITED' })).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const removed = await removeFinishedPodsContainers(node.cri, { nodeName: NODE, finished: (uid) => uid === 'uid-finished', log: silentLogger });
    expect(removed).toBe(1);
    const ids = (await node.cri.listContainers()).map((c) => c.id);
    expect(ids).not.toContain(done);
    expect(ids).toContain(previous);
  });
});
