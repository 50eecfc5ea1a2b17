import type { ListOptions, Registry, WatchOutput } from './registry.ts';
import type { Obj } from './resource-info.ts';

export interface ListWatchHandlers {
  /** everything that exists, at the start and again after a watch ended */
  list(items: Obj[]): void | Promise<void>;
  event(e: WatchOutput): void;
}

const RELIST_DELAY_MS = 1000;

/** A feed that keeps `held` (by object name) in step with a resource, each object as `keep` makes it. */
export function mapFeed<T>(held: Map<string, T>, keep: (o: Obj) => T): ListWatchHandlers {
  return {
    list: (items) => {
      held.clear();
      for (const o of items) held.set(o.metadata.name as string, keep(o));
    },
    event: (e) => {
      if (e.type === 'DELETED') held.delete(e.object.metadata.name as string);
      else if (e.type === 'ADDED' || e.type === 'MODIFIED') held.set(e.object.metadata.name as string, keep(e.object));
    },
  };
}

/**
 * Feeds an in-process mirror of one resource: a list, then a watch from its
 * revision. When storage ends the watch by itself (its history compacted
 * away), lists and watches again, a second apart until that works. Resolves
 * once the first list is handled, with the function that stops it all.
 */
export async function listAndWatch(registry: Registry, opts: ListOptions, handlers: ListWatchHandlers): Promise<() => void> {
  let stopWatch = () => {};
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const start = async (): Promise<void> => {
    const list = await registry.list(opts);
    await handlers.list(list.items);
    ({ stop: stopWatch } = await registry.watch(Number(list.resourceVersion), opts, handlers.event, () => restart()));
  };
  const restart = (): void => {
    if (stopped) return;
    retry = setTimeout(() => void start().catch(restart), RELIST_DELAY_MS);
  };
  await start();
  return () => {
    stopped = true;
    clearTimeout(retry);
    stopWatch();
  };
}
