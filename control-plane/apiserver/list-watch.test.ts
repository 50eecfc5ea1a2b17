import { describe, expect, it } from 'vitest';
import { SqliteStorage, StorageError, type StorageEvent } from '../storage/index.ts';
import { listAndWatch } from './list-watch.ts';
import { Registry, type WatchOutput } from './registry.ts';

/** SQLite, whose watches the test can end as etcd ends one whose history was compacted. */
class EndableStorage extends SqliteStorage {
  readonly #ends: (() => void)[] = [];
  override async watch(prefix: string, from: number, onEvent: (e: StorageEvent) => void, onEnded?: (err: StorageError) => void): Promise<() => void> {
    const stop = await super.watch(prefix, from, onEvent);
    this.#ends.push(() => {
      stop();
      onEnded?.(new StorageError('Compacted', 'required revision has been compacted'));
    });
    return stop;
  }
  endAll(): void {
    for (const end of this.#ends.splice(0)) end();
  }
}

const info = { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', singular: 'configmap', namespaced: true };

describe('listAndWatch', () => {
  it('lists again and watches on when storage ends its watch', async () => {
    const storage = new EndableStorage(':memory:');
    const registry = new Registry(info, storage);
    await registry.create('default', { metadata: { name: 'a' }, data: {} });
    const lists: string[][] = [];
    const events: string[] = [];
    const stop = await listAndWatch(
      registry,
      {},
      {
        list: (items) => void lists.push(items.map((o) => o.metadata.name as string)),
        event: (e: WatchOutput) => void events.push(`${e.type} ${e.object.metadata.name}`),
      },
    );
    try {
      await registry.create('default', { metadata: { name: 'b' }, data: {} });
      storage.endAll();
      await new Promise((r) => setTimeout(r, 1500));
      await registry.create('default', { metadata: { name: 'c' }, data: {} });
      expect(lists).toEqual([['a'], ['a', 'b']]);
      expect(events).toEqual(['ADDED b', 'ADDED c']);
    } finally {
      stop();
    }
  });

  it('hands a watch that storage ended to its caller as 410 Gone', async () => {
    const storage = new EndableStorage(':memory:');
    const registry = new Registry(info, storage);
    const ended: number[] = [];
    const watch = await registry.watch(
      0,
      {},
      () => {},
      (err) => ended.push(err.code),
    );
    storage.endAll();
    watch.stop();
    expect(ended).toEqual([410]);
  });
});
