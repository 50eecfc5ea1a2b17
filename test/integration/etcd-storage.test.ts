import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Compactor, openStorage, type Storage } from '../../control-plane/storage/index.ts';
import { Registry } from '../../control-plane/apiserver/index.ts';
import { storageContract } from '../../control-plane/storage/storage-contract.ts';
import { listSnapshots, saveSnapshot } from '../../control-plane/storage/snapshots/index.ts';
import type { StorageEvent } from '../../control-plane/storage/types.ts';
import { waitFor } from '../../lab/index.ts';
import { startTestEtcd, type TestEtcd } from '../../lab/testbed/index.ts';
import { startTestApiServer } from '../../lab/testbed/index.ts';

// The storage contract against a real etcd (Debian's etcd-server) on
// loopback ports, then a 3-member cluster that loses a member mid-test.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-etcd-'));
});
afterAll(async () => {
  if (!process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
});

describe('watches on etcd', () => {
  let etcd: TestEtcd;
  let storage: Storage;
  // an etcd of its own: the test compacts its history
  beforeAll(async () => {
    etcd = await startTestEtcd(join(dir, 'watches'), 1);
    storage = await openStorage(`etcd://${etcd.endpoints.join(',')}`);
  }, 60_000);
  afterAll(async () => {
    await storage?.close();
    await etcd?.stop();
  });

  it('refuses a watch from the revision just before a compaction, whose deletion the compaction may have dropped (as SQLite does)', async () => {
    const made = await storage.create('/registry/edge/a', '{}');
    const gone = await storage.delete('/registry/edge/a', made.modRevision);
    await storage.compact(gone.modRevision);
    // from the deletion's own revision: nothing after it, and nothing lost
    const seen: number[] = [];
    const stop = await storage.watch('/registry/edge/', gone.modRevision, (e) => seen.push(e.kv.modRevision));
    stop();
    // from the one before: the deletion's tombstone is gone with the compaction, so the watch is refused
    await expect(storage.watch('/registry/edge/', made.modRevision, () => {})).rejects.toMatchObject({ code: 'Compacted' });
    expect(seen).toEqual([]);
  });
});

describe('EtcdStorage on one member', () => {
  let etcd: TestEtcd;
  let storage: Storage;
  beforeAll(async () => {
    etcd = await startTestEtcd(join(dir, 'single'), 1);
    storage = await openStorage(`etcd://${etcd.endpoints.join(',')}`);
  }, 60_000);
  afterAll(async () => {
    await storage?.close();
    await etcd?.stop();
  });
  storageContract(() => storage);

  it("saves a snapshot through etcd's snapshot stream: etcd's own database file, holding what was written", async () => {
    await storage.create('/registry/configmaps/default/snapshot-marker', '{"marked":true}');
    const snap = await saveSnapshot({ endpoint: `etcd://${etcd.endpoints.join(',')}`, dir: join(dir, 'snapshots'), name: 'etcd-test' });
    const bytes = await readFile(snap.location);
    // a bbolt file: its first meta page carries the magic number after the page header
    expect(bytes.readUInt32LE(16)).toBe(0xed0cdaed);
    expect(bytes.includes('/registry/configmaps/default/snapshot-marker')).toBe(true);
    expect((await listSnapshots(join(dir, 'snapshots'))).map((s) => s.name)).toEqual([snap.name]);
  });

  it('keeps a watch cache that answers every read once etcd confirms nothing changed under it, and leaves the rest to etcd', async () => {
    const info = { group: '', version: 'v1', resource: `cachedmaps${Date.now()}`, kind: 'ConfigMap', singular: 'configmap', namespaced: true };
    const registry = new Registry(info, storage);
    await registry.create('default', { metadata: { name: 'before' }, data: {} });
    await registry.startCache();
    try {
      const made = await registry.create('default', { metadata: { name: 'after' }, data: {} });
      const names = (l: { items: { metadata: { name?: string } }[] }) => l.items.map((o) => o.metadata.name);
      // right after the write the newest state shows it, from the cache or (while it lags) from etcd
      expect(names(await registry.list({}))).toEqual(['after', 'before']);
      const minimum = { read: { match: 'NotOlderThan' as const, revision: Number(made.metadata.resourceVersion) } };
      await waitFor('the watch cache to catch up', async () => (await registry.list(minimum)).json !== undefined, 10_000);
      expect(names(await registry.list(minimum))).toEqual(['after', 'before']);
      expect((await registry.list({ read: { match: 'NotOlderThan', revision: 0 } })).json).toBeDefined();
      // a write elsewhere moves etcd on: the cache, found unchanged, answers the newest state at etcd's revision
      const elsewhere = await storage.create(`/elsewhere/${Date.now()}`, '{}');
      const latest = await registry.list({});
      expect(latest).toMatchObject({ resourceVersion: String(elsewhere.modRevision), json: expect.any(Array) });
      expect(names(latest)).toEqual(['after', 'before']);
      expect((await registry.list({ read: { match: 'NotOlderThan', revision: elsewhere.modRevision } })).json).toBeDefined();
      // a deletion the cache has not heard of yet is not missed
      await storage.delete(`/registry/${info.resource}/default/before`);
      expect(names(await registry.list({}))).toEqual(['after']);
      // pages of one snapshot: from the cache, then etcd at that revision once the cache moved on
      await registry.create('default', { metadata: { name: 'before' }, data: {} });
      const first = await registry.list({ limit: 1 });
      await registry.delete('default', 'before');
      const second = await registry.list({ limit: 1, continue: first.continue });
      expect([...names(first), ...names(second)]).toEqual(['after', 'before']);
    } finally {
      registry.stopCache();
    }
  });

  it("serves watches from the watch cache's window of events, and from etcd before it", async () => {
    const info = { group: '', version: 'v1', resource: `watchedmaps${Date.now()}`, kind: 'ConfigMap', singular: 'configmap', namespaced: true };
    const registry = new Registry(info, storage);
    const early = await registry.create('default', { metadata: { name: 'early' }, data: {} });
    await registry.startCache();
    try {
      const a = await registry.create('default', { metadata: { name: 'a' }, data: {} });
      await registry.create('default', { metadata: { name: 'b' }, data: {} });
      await registry.delete('default', 'a');
      const seen = (from: number) => {
        const events: string[] = [];
        return { events, watch: registry.watch(from, {}, (e) => events.push(`${e.type} ${e.object.metadata.name}`)) };
      };
      const inWindow = seen(Number(a.metadata.resourceVersion));
      const beforeWindow = seen(Number(early.metadata.resourceVersion) - 1);
      await registry.create('default', { metadata: { name: 'c' }, data: {} });
      const last = await registry.create('other', { metadata: { name: 'd' }, data: {} });
      await waitFor('both watches to see every event', async () => inWindow.events.length === 4 && beforeWindow.events.length === 6, 10_000);
      expect(inWindow.events).toEqual(['ADDED b', 'DELETED a', 'ADDED c', 'ADDED d']);
      expect(beforeWindow.events).toEqual(['ADDED early', 'ADDED a', 'ADDED b', 'DELETED a', 'ADDED c', 'ADDED d']);
      // the watch through the cache vouches for the cache's revision; the one on etcd for nothing
      expect(await (await inWindow.watch).progress()).toBe(Number(last.metadata.resourceVersion));
      expect(await (await beforeWindow.watch).progress()).toBe(0);
      for (const w of [inWindow, beforeWindow]) (await w.watch).stop();
    } finally {
      registry.stopCache();
    }
  });

  it("backs two skiff servers that see each other's writes", async () => {
    const endpoint = `etcd://${etcd.endpoints.join(',')}`;
    const a = await startTestApiServer(join(dir, 'server-a'), ['--datastore-endpoint', endpoint, '--disable-scheduler']);
    // a second server that fails to start must not leave the first one running
    const b = await startTestApiServer(join(dir, 'server-b'), ['--datastore-endpoint', endpoint, '--disable-scheduler']).catch(async (err: unknown) => {
      await a.stop();
      throw err;
    });
    try {
      await a.kubectlResult(['apply', '-f', '-'], '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"shared"},"data":{"from":"a"}}');
      expect(await b.kubectl('get', 'configmap', 'shared', '-o', 'jsonpath={.data.from}')).toBe('a');
      await b.kubectl('patch', 'configmap', 'shared', '--type=merge', '-p', '{"data":{"from":"b"}}');
      expect(await a.kubectl('get', 'configmap', 'shared', '-o', 'jsonpath={.data.from}')).toBe('b');
      expect(await a.kubectl('get', 'namespaces', '-o', 'name')).toContain('namespace/kube-system');
    } finally {
      await a.stop();
      await b.stop();
    }
  }, 90_000);

  it('lets servers sharing the cluster take turns to compact, once per round', async () => {
    const other = await openStorage(`etcd://${etcd.endpoints.join(',')}`);
    try {
      const silent = pino({ level: 'silent' });
      const a = new Compactor(storage, silent);
      const b = new Compactor(other, silent);
      const key = `/turns/${Date.now()}`;
      const first = await storage.create(key, '1');
      await a.tick(); // a has seen the first write
      const second = await storage.update(key, '2', first.modRevision);
      await b.tick(); // b has seen the second
      await storage.update(key, '3', second.modRevision);
      const readAt = async (revision: number) => (await storage.list(key, { revision })).items[0]?.value;
      // a claims the round and compacts to what it saw
      await a.tick();
      expect(await readAt(first.modRevision)).toBe('1');
      // b finds the round taken: the second write's predecessor stays readable
      await b.tick();
      expect(await readAt(first.modRevision)).toBe('1');
      // next round b claims it and compacts to what it saw at its last tick, past every write
      await b.tick();
      await expect(readAt(second.modRevision)).rejects.toMatchObject({ code: 'Compacted' });
      expect((await storage.get(key))?.value).toBe('3');
    } finally {
      await other.close();
    }
  });
});

describe('EtcdStorage on three members', () => {
  let etcd: TestEtcd;
  beforeAll(async () => {
    etcd = await startTestEtcd(join(dir, 'three'), 3);
  }, 60_000);
  afterAll(async () => {
    await etcd?.stop();
  });

  it('keeps serving reads, writes and a watch when one member is killed', async () => {
    const storage = await openStorage(`etcd://${etcd.endpoints.join(',')}`);
    try {
      const seen: StorageEvent[] = [];
      const stop = await storage.watch('/ha/', await storage.currentRevision(), (e) => seen.push(e));
      const first = await storage.create('/ha/a', 'before');
      await etcd.kill(0);
      // writes need a quorum (2 of 3) and find a live member
      let written = first;
      await waitFor(
        'a write after the kill',
        async () => {
          written = await storage.update('/ha/a', 'after', first.modRevision).catch(() => first);
          return written.modRevision !== first.modRevision;
        },
        30_000,
        200,
      );
      expect((await storage.get('/ha/a'))?.value).toBe('after');
      await storage.create('/ha/b', 'more');
      await waitFor('the watch to see every write', async () => seen.filter((e) => e.kv.key.startsWith('/ha/')).length >= 3, 30_000, 100);
      expect(seen.map((e) => e.kv.value)).toEqual(['before', 'after', 'more']);
      stop();
    } finally {
      await storage.close();
    }
  }, 90_000);
});
