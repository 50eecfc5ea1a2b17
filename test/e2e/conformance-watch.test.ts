// Conformance of watches, in our words (titles are the upstream names).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { RestClient, loadKubeconfig, type WatchEvent } from '../../apimachinery/index.ts';
import { startTestApiServer, startTestEtcd } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

const FLAGS = ['--disable-scheduler', '--disable-controllers', '--no-cluster-dns'];
const api = useTestApiServer('sk-watch-', FLAGS);
const CONFIGMAPS = { resource: 'configmaps', namespace: 'default' };
const EVENTS = 60;

/** The events of a watch from `resourceVersion` until it has seen `count` of them: type and resourceVersion each. */
async function watchFrom(client: RestClient, resourceVersion: string, count: number): Promise<string[]> {
  const seen: string[] = [];
  const stop = new AbortController();
  await client
    .watch<ConfigMap>(
      CONFIGMAPS,
      { resourceVersion },
      (e: WatchEvent<ConfigMap>) => {
        if (e.type === 'BOOKMARK' || seen.length >= count) return;
        seen.push(`${e.type} ${e.object.metadata?.resourceVersion}`);
        if (seen.length >= count) stop.abort();
      },
      { signal: stop.signal },
    )
    .catch((err: Error) => {
      if (!stop.signal.aborted) throw err;
    });
  return seen;
}

/** Two watches from one version agree, and watches from each of the first events' versions see what a first watch saw after them, in the same order, while writes go on. */
async function concurrentWatchesAgree(kubeconfig: string): Promise<void> {
  const client = new RestClient(await loadKubeconfig(kubeconfig));
  try {
    const start = (await client.get<{ metadata: { resourceVersion: string } }>(CONFIGMAPS)).metadata.resourceVersion;
    // writes in the background: creates, updates and deletes of a few names
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const name = `w-${i % 5}`;
        await client
          .create(CONFIGMAPS, { metadata: { name }, data: { i: String(i) } })
          .catch(() => client.delete({ ...CONFIGMAPS, name }).catch(() => undefined));
      }
    })();
    // two watches opened at once from one revision while the writes go on see the same events (the first sighting)
    const [reference, twin] = await Promise.all([watchFrom(client, start, EVENTS), watchFrom(client, start, EVENTS)]);
    expect(twin).toEqual(reference);
    // a watch from each of the first events' versions sees what the first watch saw after it, in the same order
    const versions = reference.slice(0, 10).map((e) => e.split(' ')[1] as string);
    const others = await Promise.all(versions.map((rv, i) => watchFrom(client, rv, EVENTS - i - 1 - 20)));
    writing = false;
    await writer;
    others.forEach((seen, i) => expect(seen, `from ${versions[i]}`).toEqual(reference.slice(i + 1, i + 1 + seen.length)));
  } finally {
    client.close();
  }
}

describe('[sig-api-machinery] Watchers', () => {
  it(
    '[sig-api-machinery] Watchers should receive events on concurrent watches in same order [Conformance]',
    () => concurrentWatchesAgree(api.kubeconfig),
    60_000,
  );

  it('[sig-api-machinery] Watchers should receive events on concurrent watches in same order [Conformance] (etcd, through the watch cache)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-watch-etcd-'));
    const etcd = await startTestEtcd(join(dir, 'etcd'), 1);
    const server = await startTestApiServer(join(dir, 'server'), ['--datastore-endpoint', `etcd://${etcd.endpoints[0]}`, ...FLAGS]).catch(
      async (err: unknown) => {
        await etcd.stop();
        throw err;
      },
    );
    try {
      await concurrentWatchesAgree(server.kubeconfig);
    } finally {
      await server.stop();
      await etcd.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
