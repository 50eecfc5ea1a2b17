import fc from 'fast-check';
import { expect } from 'vitest';
import { StorageError, type Storage } from './types.ts';

// Watch correctness as a property, for any backend (the suite runs it on
// SQLite; on etcd, the client library throws an unhandled "Failed to find
// watcher" when watches are cancelled and the client closed in quick
// succession, so the etcd suite checks the property's findings one by one):
// random writes on a few keys, watches opened at random from random revisions, compactions and
// restarts of the store (or of the client to it) in between. Each watch from
// a revision still kept must see every change after it exactly once, in
// revision order, with no gap, carrying on from where it was across a
// restart; a watch from a compacted revision must be told so (the client
// lists again).

type Op = { kind: 'write'; key: number; remove: boolean } | { kind: 'watch'; back: number } | { kind: 'compact'; back: number } | { kind: 'restart' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('write' as const), key: fc.nat(3), remove: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('watch' as const), back: fc.nat(12) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

interface Watcher {
  from: number;
  seen: number[];
  stop?: () => void;
  /** told its revision was compacted: it would list again */
  relisted: boolean;
}

/** Waits (briefly) until `check` holds: some backends deliver watch events asynchronously. */
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}

/** Runs the property; `open` makes the store (again, after a restart) over the same data, under `prefix`. */
export async function checkWatchCorrectness(o: { open: () => Promise<Storage>; prefix: () => string; runs: number }): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
      const prefix = o.prefix();
      let store = await o.open();
      const log: number[] = [];
      const live = new Map<number, number>(); // key → modRevision
      let compacted = 0;
      const watchers: Watcher[] = [];
      const subscribe = async (w: Watcher, from: number) => {
        // a backend may also end a watch later, when it finds its history gone (etcd)
        const ended = (err: StorageError) => {
          if (err.code === 'Compacted') w.relisted = true;
        };
        try {
          w.stop = await store.watch(prefix, from, (e) => w.seen.push(e.kv.modRevision), ended);
        } catch (err) {
          if (!(err instanceof StorageError && err.code === 'Compacted')) throw err;
          expect(from, 'only a compacted revision is refused').toBeLessThan(compacted);
          w.relisted = true;
        }
      };
      try {
        for (const step of ops) {
          if (step.kind === 'write') {
            const key = `${prefix}k${step.key}`;
            const rev = live.get(step.key);
            const kv =
              rev === undefined
                ? await store.create(key, '{}')
                : step.remove
                  ? await store.delete(key, rev)
                  : await store.update(key, `{"n":${log.length}}`, rev);
            if (rev !== undefined && step.remove) live.delete(step.key);
            else live.set(step.key, kv.modRevision);
            log.push(kv.modRevision);
          } else if (step.kind === 'watch' && log.length) {
            const from = log[Math.max(0, log.length - 1 - step.back)] as number;
            const w: Watcher = { from, seen: [], relisted: false };
            watchers.push(w);
            await subscribe(w, from);
          } else if (step.kind === 'compact' && log.length) {
            const at = log[Math.max(0, log.length - 1 - step.back)] as number;
            if (at > compacted) {
              await store.compact(at);
              compacted = at;
            }
          } else if (step.kind === 'restart') {
            for (const w of watchers) w.stop?.();
            await store.close();
            store = await o.open();
            // each watch carries on from the last change it saw
            for (const w of watchers.filter((x) => !x.relisted)) await subscribe(w, w.seen.at(-1) ?? w.from);
          }
        }
        const want = (w: Watcher) => log.filter((r) => r > w.from);
        await eventually(() => watchers.every((w) => w.relisted || w.seen.length >= want(w).length));
        for (const w of watchers) if (!w.relisted) expect(w.seen, `a watch from revision ${w.from}`).toEqual(want(w));
      } finally {
        for (const w of watchers) w.stop?.();
        await store.close();
      }
    }),
    { numRuns: o.runs },
  );
}
