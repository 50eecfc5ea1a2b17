import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SqliteStorage } from './sqlite.ts';
import { storageContract } from './storage-contract.ts';
import { checkWatchCorrectness } from './watch-correctness.ts';

describe('SqliteStorage', () => {
  storageContract(() => new SqliteStorage(':memory:'));

  it('shows every watch each change after its revision exactly once, in order, across compactions and restarts (property)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-sqlite-watch-'));
    let run = 0;
    try {
      await checkWatchCorrectness({ open: async () => new SqliteStorage(join(dir, 'state.db')), prefix: () => `/registry/fuzz/${run++}/`, runs: 60 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('compacts a history longer than one compaction step', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-sqlite-'));
    const path = join(dir, 'state.db');
    const s = new SqliteStorage(path);
    try {
      let a = await s.create('/k/a', '0');
      const b = await s.create('/k/b', 'b');
      for (let i = 1; i <= 12_000; i++) {
        a = await s.update('/k/a', String(i), a.modRevision);
        if (i === 6_000) await s.delete('/k/b', b.modRevision);
      }
      await s.create('/k/c', 'c');
      const at = await s.currentRevision();
      await s.update('/k/a', 'after', a.modRevision);
      await s.compact(at);
      expect((await s.list('/k/', { revision: at })).items.map((kv) => `${kv.key}=${kv.value}`)).toEqual(['/k/a=12000', '/k/c=c']);
      expect((await s.list('/k/')).items.map((kv) => kv.value)).toEqual(['after', 'c']);
      await expect(s.list('/k/', { revision: at - 1 })).rejects.toMatchObject({ code: 'Compacted' });
      // only a's versions at and after the compaction and c are left of the log
      const db = new DatabaseSync(path);
      expect(
        db
          .prepare('SELECT key, value FROM log ORDER BY revision')
          .all()
          .map((r) => `${r.key}=${r.value}`),
      ).toEqual(['/k/a=12000', '/k/c=c', '/k/a=after']);
      db.close();
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStorage files', () => {
  it('keeps the store, its WAL and shared memory readable by the server alone, also when an older file was not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-sqlmode-'));
    try {
      const path = join(dir, 'server', 'state.db');
      const modes = async () => Promise.all([path, `${path}-wal`, `${path}-shm`].map(async (f) => (await stat(f)).mode & 0o777));
      let s = new SqliteStorage(path);
      await s.create('/registry/secrets/default/x', 'secret');
      expect(await modes()).toEqual([0o600, 0o600, 0o600]);
      expect((await stat(join(dir, 'server'))).mode & 0o777).toBe(0o700);
      await s.close();
      await chmod(path, 0o644);
      s = new SqliteStorage(path);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      await s.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
