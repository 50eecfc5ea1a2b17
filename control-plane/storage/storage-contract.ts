import { expect, it } from 'vitest';
import { StorageError, type KeyValue, type Storage, type StorageEvent } from './types.ts';

/** Waits (briefly) until `check` holds: etcd delivers watch events asynchronously. */
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The behaviour every Storage backend must show, as one suite: each test
 * works under its own key prefix so backends may share one store.
 */
export function storageContract(store: () => Storage): void {
  let n = 0;
  const prefix = () => `/contract/${Date.now()}-${n++}/`;

  it('gives each write the next revision and keeps createRevision', async () => {
    const s = store();
    const p = prefix();
    const a = await s.create(`${p}a`, '{"v":1}');
    const b = await s.update(`${p}a`, '{"v":2}', a.modRevision);
    expect(a.createRevision).toBe(a.modRevision);
    expect(b).toMatchObject({ createRevision: a.modRevision, value: '{"v":2}' });
    expect(b.modRevision).toBeGreaterThan(a.modRevision);
    expect(await s.currentRevision()).toBeGreaterThanOrEqual(b.modRevision);
    expect(await s.get(`${p}a`)).toEqual(b);
    expect(await s.get(`${p}missing`)).toBeNull();
  });

  it('keeps concurrent writes apart: one refused leaves the others, each with its own revision, watched in order', async () => {
    const s = store();
    const p = prefix();
    const seen: StorageEvent[] = [];
    const stop = await s.watch(p, 0, (e) => seen.push(e));
    try {
      const first = await s.create(`${p}taken`, '0');
      const [a, again, update1, b, update2] = await Promise.allSettled([
        s.create(`${p}a`, '1'),
        s.create(`${p}taken`, 'again'),
        s.update(`${p}taken`, '2', first.modRevision),
        s.create(`${p}b`, '3'),
        s.update(`${p}taken`, '4', first.modRevision),
      ]);
      expect([a?.status, b?.status]).toEqual(['fulfilled', 'fulfilled']);
      expect(again).toMatchObject({ status: 'rejected', reason: { code: 'KeyExists' } });
      // of two updates from the same revision exactly one lands
      const updates = [update1, update2];
      const won = updates.filter((r) => r?.status === 'fulfilled') as PromiseFulfilledResult<KeyValue>[];
      expect(won).toHaveLength(1);
      expect(updates.find((r) => r?.status === 'rejected')).toMatchObject({ reason: { code: 'Conflict' } });
      expect((await s.get(`${p}taken`))?.value).toBe(won[0]?.value.value);
      const revisions = [a, b, won[0]].map((r) => (r as PromiseFulfilledResult<KeyValue>).value.modRevision);
      expect(new Set(revisions).size).toBe(3);
      await eventually(() => seen.length === 4);
      expect(seen.map((e) => e.kv.modRevision)).toEqual([first.modRevision, ...revisions.sort((x, y) => x - y)]);
    } finally {
      stop();
    }
  });

  it('rejects a second create, a stale update and a missing delete', async () => {
    const s = store();
    const p = prefix();
    const a = await s.create(`${p}a`, '1');
    await expect(s.create(`${p}a`, '2')).rejects.toMatchObject({ code: 'KeyExists' });
    await s.update(`${p}a`, '2', a.modRevision);
    await expect(s.update(`${p}a`, '3', a.modRevision)).rejects.toMatchObject({ code: 'Conflict' });
    await expect(s.update(`${p}missing`, '3', 1)).rejects.toMatchObject({ code: 'KeyNotFound' });
    await expect(s.delete(`${p}a`, a.modRevision)).rejects.toBeInstanceOf(StorageError);
    await expect(s.delete(`${p}missing`)).rejects.toMatchObject({ code: 'KeyNotFound' });
    expect((await s.get(`${p}a`))?.value).toBe('2');
  });

  it('deletes returning the last version at the delete revision', async () => {
    const s = store();
    const p = prefix();
    const a = await s.create(`${p}a`, 'last');
    const gone = await s.delete(`${p}a`, a.modRevision);
    expect(gone).toMatchObject({ key: `${p}a`, value: 'last', createRevision: a.modRevision });
    expect(gone.modRevision).toBeGreaterThan(a.modRevision);
    expect(await s.get(`${p}a`)).toBeNull();
  });

  it('never reads outside the prefix, whatever key a read starts after', async () => {
    const s = store();
    const p = prefix();
    await s.create(`${p}secrets/ns/token`, 'secret');
    await s.create(`${p}services/ns/web`, 'web');
    await s.create(`${p}servicesz/ns/x`, 'other');
    for (const startAfter of [`${p}secrets/`, `${p}a`, '', '/', `${p}services`, `${p}secrets/ns/token`]) {
      for (const limit of [undefined, 1, 10]) {
        const r = await s.list(`${p}services/`, { startAfter, limit });
        expect(
          r.items.map((i) => i.value),
          `after ${JSON.stringify(startAfter)}, limit ${limit}`,
        ).toEqual(['web']);
      }
    }
  });

  it('lists a prefix in key order with limit and continuation', async () => {
    const s = store();
    const p = prefix();
    for (const k of ['c', 'a', 'b']) await s.create(`${p}pods/ns/${k}`, k);
    await s.create(`${p}podsx/ns/z`, 'z');
    const first = await s.list(`${p}pods/`, { limit: 2 });
    expect(first.items.map((i) => i.value)).toEqual(['a', 'b']);
    expect(first.more).toBe(true);
    const rest = await s.list(`${p}pods/`, { startAfter: first.items[1]?.key });
    expect(rest.items.map((i) => i.value)).toEqual(['c']);
    expect(rest.more).toBe(false);
    expect(rest.revision).toBeGreaterThanOrEqual(first.revision);
  });

  it('replays history after a revision, then streams live events until stopped', async () => {
    const s = store();
    const p = prefix();
    const a = await s.create(`${p}a`, '1');
    const b = await s.update(`${p}a`, '2', a.modRevision);
    const seen: StorageEvent[] = [];
    const stop = await s.watch(p, a.modRevision, (e) => seen.push(e));
    const gone = await s.delete(`${p}a`);
    const c = await s.create(`${p}c`, 'new');
    await s.create(`/contract-other/${p}x`, 'elsewhere');
    await eventually(() => seen.length >= 3);
    stop();
    await new Promise((r) => setTimeout(r, 50));
    await s.create(`${p}late`, 'late');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((e) => [e.type, e.kv.modRevision, e.kv.value, e.prev?.value, e.created])).toEqual([
      ['put', b.modRevision, '2', '1', false],
      ['delete', gone.modRevision, '2', '2', false],
      ['put', c.modRevision, 'new', undefined, true],
    ]);
  });

  it('answers Compacted for a watch from well before a compaction', async () => {
    const s = store();
    const p = prefix();
    const a = await s.create(`${p}a`, '1');
    const b = await s.update(`${p}a`, '2', a.modRevision);
    const c = await s.update(`${p}a`, '3', b.modRevision);
    await s.compact(c.modRevision);
    await expect(s.watch(p, a.modRevision, () => {})).rejects.toMatchObject({ code: 'Compacted' });
    expect((await s.get(`${p}a`))?.value).toBe('3');
  });

  it('lists a prefix as it was at an earlier revision, in pages too', async () => {
    const s = store();
    const p = prefix();
    const a = await s.create(`${p}a`, 'a1');
    const b = await s.create(`${p}b`, 'b1');
    const then = b.modRevision;
    await s.update(`${p}a`, 'a2', a.modRevision);
    await s.delete(`${p}b`);
    await s.create(`${p}c`, 'c1');
    const values = (r: { items: { value: string }[] }) => r.items.map((kv) => kv.value);
    expect(values(await s.list(p))).toEqual(['a2', 'c1']);
    const past = await s.list(p, { revision: then });
    expect(past).toMatchObject({ revision: then, more: false });
    expect(values(past)).toEqual(['a1', 'b1']);
    const first = await s.list(p, { revision: then, limit: 1 });
    expect(first).toMatchObject({ more: true, revision: then });
    const rest = await s.list(p, { revision: then, limit: 1, startAfter: first.items[0]?.key });
    expect(values(rest)).toEqual(['b1']);
    expect(rest.items[0]).toEqual(b);
  });

  it('keeps what was current at a compaction readable and refuses older or future revisions', async () => {
    const s = store();
    const p = prefix();
    const a = await s.create(`${p}a`, '1');
    const b = await s.update(`${p}a`, '2', a.modRevision);
    await s.create(`${p}other`, 'x');
    const gone = await s.delete(`${p}other`);
    await s.compact(gone.modRevision);
    await s.update(`${p}a`, '3', b.modRevision);
    const atCompaction = await s.list(p, { revision: gone.modRevision });
    expect(atCompaction.items.map((kv) => kv.value)).toEqual(['2']);
    await expect(s.list(p, { revision: a.modRevision })).rejects.toMatchObject({ code: 'Compacted' });
    await expect(s.list(p, { revision: (await s.currentRevision()) + 1000 })).rejects.toMatchObject({ code: 'FutureRevision' });
    await expect(s.compact(gone.modRevision)).rejects.toMatchObject({ code: 'Compacted' });
    await expect(s.compact((await s.currentRevision()) + 1000)).rejects.toMatchObject({ code: 'FutureRevision' });
  });

  it('counts compaction rounds: a claim succeeds only from the current count', async () => {
    const s = store();
    const look = await s.claimCompaction(-1, 0);
    expect(look).toMatchObject({ claimed: false, revision: await s.currentRevision() });
    const claim = await s.claimCompaction(look.round, look.revision);
    expect(claim).toMatchObject({ claimed: true, round: look.round + 1 });
    // a server that still counts the old round learns the new count instead
    expect(await s.claimCompaction(look.round, look.revision)).toMatchObject({ claimed: false, round: claim.round });
  });
}
