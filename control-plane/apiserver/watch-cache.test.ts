import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../storage/sqlite.ts';
import type { KeyValue } from '../storage/index.ts';
import { WatchCache } from './watch-cache.ts';
import type { Obj } from './resource-info.ts';

let storage: SqliteStorage;
let decoded: number;
const decode = (kv: KeyValue): Obj => {
  decoded++;
  const obj = JSON.parse(kv.value) as Obj;
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
};
const put = (key: string, name: string) => storage.create(key, JSON.stringify({ metadata: { name } }));

beforeEach(() => {
  storage = new SqliteStorage(':memory:');
  decoded = 0;
});

afterEach(async () => {
  await storage.close();
});

describe('watch cache', () => {
  it('holds what was stored before it started and every write after, in key order', async () => {
    await put('/r/pods/b/x', 'x');
    const cache = new WatchCache('/r/pods/', storage, decode);
    await cache.start();
    await put('/r/pods/a/y', 'y');
    const z = await put('/r/pods/b/z', 'z');
    await storage.delete('/r/pods/b/x');
    await storage.create('/r/other/q', '{"metadata":{"name":"q"}}');
    const all = await cache.list('/r/pods/');
    const keys = async (prefix: string, startAfter?: string) => (await cache.list(prefix, startAfter)).objects.map((o) => o.key);
    expect(all.objects.map((o) => o.key)).toEqual(['/r/pods/a/y', '/r/pods/b/z']);
    expect(all.objects.map((o) => `${o.obj.metadata.name}@${o.obj.metadata.resourceVersion}`)).toEqual([`y@${z.modRevision - 1}`, `z@${z.modRevision}`]);
    expect(all.objects[1]?.json).toBe(JSON.stringify({ metadata: { name: 'z', resourceVersion: String(z.modRevision) } }));
    expect(all.revision).toBe(await storage.currentRevision());
    expect(await keys('/r/pods/b/')).toEqual(['/r/pods/b/z']);
    expect(await keys('/r/pods/', '/r/pods/a/y')).toEqual(['/r/pods/b/z']);
    cache.stop();
  });

  it('decodes an object once until it is written again', async () => {
    const cache = new WatchCache('/r/pods/', storage, decode);
    await cache.start();
    const kv = await put('/r/pods/a/y', 'y');
    for (let i = 0; i < 2; i++) (await cache.list('/r/pods/')).objects.forEach((o) => o.obj);
    expect(decoded).toBe(1);
    await storage.update('/r/pods/a/y', JSON.stringify({ metadata: { name: 'y', labels: { v: '2' } } }), kv.modRevision);
    expect((await cache.list('/r/pods/')).objects[0]?.obj.metadata.labels).toEqual({ v: '2' });
    expect(decoded).toBe(2);
    cache.stop();
  });

  it('replays its window of recent events to a watch from the past, and leaves older ones to storage', async () => {
    // the store as etcd is to the cache: its watch heard asynchronously, so watches go through the cache
    const asynchronous = new Proxy(storage, {
      get: (target, key) => {
        if (key === 'watchIsSynchronous') return false;
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const cache = new WatchCache('/r/cms/', asynchronous, decode);
    await cache.start();
    const first = await put('/r/cms/default/first', 'first');
    for (let i = 0; i < 1000; i++) await put(`/r/cms/default/m${i}`, `m${i}`);
    // the window holds the last 1000 events: the first one has left it
    expect(cache.watch('/r/cms/', first.modRevision - 1, () => {})).toBeUndefined();
    const seen: string[] = [];
    const stop = cache.watch('/r/cms/default/', first.modRevision + 998, (e) => seen.push(e.kv.key));
    await put('/r/cms/default/live', 'live');
    await put('/r/cms/other/elsewhere', 'elsewhere');
    expect(seen).toEqual(['/r/cms/default/m998', '/r/cms/default/m999', '/r/cms/default/live']);
    const ended: string[] = [];
    cache.watch(
      '/r/cms/',
      first.modRevision + 999,
      () => {},
      (err) => ended.push(err.code),
    );
    cache.stop();
    expect(ended).toEqual(['Compacted']);
    stop?.();
  });
});
