import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../sqlite.ts';
import type { StorageError } from '../types.ts';
import { deleteSnapshots, listSnapshots, pruneSnapshots, restoreSqliteSnapshot, saveSnapshot } from './snapshots.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-snap-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const key = (n: string) => `/registry/configmaps/default/${n}`;

describe('SQLite snapshots', () => {
  it('saves a consistent copy while the server writes on, and restores it with every older watch sent to relist', async () => {
    const path = join(dir, 'state.db');
    const store = new SqliteStorage(path);
    for (let i = 0; i < 50; i++) await store.create(key(`before-${i}`), `{"n":${i}}`);
    // writes keep coming while the backup runs
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) await store.create(key(`during-${i}`), '{}');
    })();
    const snap = await saveSnapshot({ endpoint: `sqlite://${path}`, dir: join(dir, 'snapshots'), name: 'nightly', now: new Date(1_700_000_000_000) });
    writing = false;
    await writer;
    expect(snap.name).toMatch(/^nightly-.+-1700000000$/);
    await store.create(key('after'), '{}');
    const before = await store.currentRevision();
    const { items: inSnapshot } = await new SqliteStorage(snap.location).list('/registry/');
    await store.close();

    const { revision } = await restoreSqliteSnapshot({ snapshot: snap.location, path });
    expect(revision).toBeGreaterThan(before);
    const restored = new SqliteStorage(path);
    const { items } = await restored.list('/registry/');
    expect(items.map((i) => i.key)).toEqual(inSnapshot.map((i) => i.key));
    expect(items.map((i) => i.key)).toContain(key('before-49'));
    expect(items.map((i) => i.key)).not.toContain(key('after'));
    expect(await restored.currentRevision()).toBe(revision);
    // a watcher from before the restore is told its history is gone
    await expect(restored.watch('/registry/', before, () => {})).rejects.toMatchObject({ code: 'Compacted' } satisfies Partial<StorageError>);
    // and new writes carry on from the bumped revision
    expect((await restored.create(key('new'), '{}')).modRevision).toBe(revision + 1);
    await restored.close();
  });

  it('refuses a file that is no skiff store, leaving the store as it was', async () => {
    const path = join(dir, 'state.db');
    const store = new SqliteStorage(path);
    await store.create(key('kept'), '{}');
    await store.close();
    const junk = join(dir, 'junk');
    await writeFile(junk, 'not a database at all, just text long enough to be read as a header');
    await expect(restoreSqliteSnapshot({ snapshot: junk, path })).rejects.toThrow(`${junk} is not a skiff SQLite snapshot`);
    const reopened = new SqliteStorage(path);
    expect(await reopened.get(key('kept'))).not.toBeNull();
    await reopened.close();
  });

  it('lists newest first, deletes by name, and keeps the newest few of a schedule', async () => {
    const snapshots = join(dir, 'snapshots');
    const path = join(dir, 'state.db');
    await new SqliteStorage(path).close();
    for (let i = 1; i <= 4; i++) {
      const s = await saveSnapshot({ endpoint: `sqlite://${path}`, dir: snapshots, name: 'auto', now: new Date(i * 1000_000) });
      await utimes(s.location, i * 1000, i * 1000);
    }
    const manual = await saveSnapshot({ endpoint: `sqlite://${path}`, dir: snapshots, name: 'manual' });
    expect((await listSnapshots(snapshots)).map((s) => s.name.split('-')[0])).toEqual(['manual', 'auto', 'auto', 'auto', 'auto']);
    const pruned = await pruneSnapshots(snapshots, 'auto', 2);
    expect(pruned.map((n) => n.replace(/.*-/, ''))).toEqual(['2000', '1000']);
    await expect(deleteSnapshots(snapshots, ['nope'])).rejects.toThrow('no such snapshot: nope');
    await deleteSnapshots(snapshots, [manual.name]);
    expect((await listSnapshots(snapshots)).map((s) => s.name.replace(/.*-/, ''))).toEqual(['4000', '3000']);
    await expect(saveSnapshot({ endpoint: `sqlite://${path}`, dir: snapshots, name: 'Bad Name' })).rejects.toThrow('invalid snapshot name');
  });
});
