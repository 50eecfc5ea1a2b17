import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Compactor } from './compactor.ts';
import { SqliteStorage } from './sqlite.ts';

describe('Compactor', () => {
  it('compacts each tick to the revision the tick before saw', async () => {
    const storage = new SqliteStorage(':memory:');
    const compactor = new Compactor(storage, pino({ level: 'silent' }));
    await storage.create('/other', '0');
    const a = await storage.create('/k/a', '1');
    await compactor.tick();
    const b = await storage.update('/k/a', '2', a.modRevision);
    // the first tick only notes where the store is
    expect((await storage.list('/k/', { revision: a.modRevision })).items[0]?.value).toBe('1');
    await compactor.tick();
    expect((await storage.list('/k/', { revision: a.modRevision })).items[0]?.value).toBe('1');
    await expect(storage.watch('/k/', a.modRevision - 1, () => {})).rejects.toMatchObject({ code: 'Compacted' });
    await storage.update('/k/a', '3', b.modRevision);
    await compactor.tick();
    await expect(storage.list('/k/', { revision: a.modRevision })).rejects.toMatchObject({ code: 'Compacted' });
    // a tick with nothing written since is no error
    await compactor.tick();
    await compactor.tick();
    expect((await storage.get('/k/a'))?.value).toBe('3');
  });
});
