import { describe, expect, it } from 'vitest';
import { SqliteStorage } from './sqlite.ts';
import { StorageError, type StorageEvent } from './types.ts';

function store() {
  return new SqliteStorage(':memory:');
}

describe('SqliteStorage', () => {
  it('gives each write the next revision and keeps createRevision', async () => {
    const s = store();
    const a = await s.create('/registry/pods/default/a', '{"v":1}');
    const b = await s.update('/registry/pods/default/a', '{"v":2}', a.modRevision);
    expect(a.modRevision).toBe(1);
    expect(b).toMatchObject({ modRevision: 2, createRevision: 1, value: '{"v":2}' });
    expect(await s.currentRevision()).toBe(2);
  });

  it('rejects a second create and a stale update', async () => {
    const s = store();
    const a = await s.create('/k/a', '1');
    await expect(s.create('/k/a', '2')).rejects.toMatchObject({ code: 'KeyExists' });
    await s.update('/k/a', '2', a.modRevision);
    await expect(s.update('/k/a', '3', a.modRevision)).rejects.toBeInstanceOf(StorageError);
    await expect(s.delete('/k/missing')).rejects.toMatchObject({ code: 'KeyNotFound' });
  });

  it('lists a prefix in key order with limit and continuation', async () => {
    const s = store();
    for (const n of ['c', 'a', 'b']) await s.create(`/registry/pods/ns/${n}`, n);
    await s.create('/registry/podsx/ns/z', 'z');
    const first = await s.list('/registry/pods/', { limit: 2 });
    expect(first.items.map((i) => i.value)).toEqual(['a', 'b']);
    expect(first.more).toBe(true);
    const rest = await s.list('/registry/pods/', { startAfter: first.items[1]?.key });
    expect(rest.items.map((i) => i.value)).toEqual(['c']);
    expect(rest.more).toBe(false);
  });

  it('replays history after a revision, then streams live events', async () => {
    const s = store();
    const a = await s.create('/p/a', '1');
    await s.update('/p/a', '2', a.modRevision);
    const seen: StorageEvent[] = [];
    const stop = await s.watch('/p/', 1, (e) => seen.push(e));
    await s.delete('/p/a');
    await s.create('/q/other', 'x');
    stop();
    await s.create('/p/b', 'late');
    expect(seen.map((e) => [e.type, e.kv.modRevision, e.kv.value, e.prev?.value])).toEqual([
      ['put', 2, '2', '1'],
      ['delete', 3, '2', '2'],
    ]);
  });

  it('answers Compacted for a watch from before the compaction', async () => {
    const s = store();
    const a = await s.create('/p/a', '1');
    await s.update('/p/a', '2', a.modRevision);
    await s.update('/p/a', '3', 2);
    await s.compact(2);
    await expect(s.watch('/p/', 1, () => {})).rejects.toMatchObject({ code: 'Compacted' });
    expect((await s.get('/p/a'))?.value).toBe('3');
  });
});
