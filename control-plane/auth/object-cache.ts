import type { Registry } from '../apiserver/registry.ts';
import type { Obj } from '../apiserver/resource-info.ts';
import { listAndWatch } from '../apiserver/list-watch.ts';

/**
 * An in-process mirror of one resource, kept current from storage: list
 * once, then watch from that revision. The API server reads policy from it
 * on every request without touching storage.
 */
export class ObjectCache {
  readonly #registry: Registry;
  readonly #items = new Map<string, Obj>();
  #stop: (() => void) | undefined;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  #key(o: Obj): string {
    return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  }

  async start(): Promise<void> {
    this.#stop = await listAndWatch(this.#registry, {}, {
      list: (items) => {
        this.#items.clear();
        for (const o of items) this.#items.set(this.#key(o), o);
      },
      event: (e) => {
        if (e.type === 'DELETED') this.#items.delete(this.#key(e.object));
        else this.#items.set(this.#key(e.object), e.object);
      },
    });
  }

  stop(): void {
    this.#stop?.();
  }

  get(namespace: string | undefined, name: string): Obj | undefined {
    return this.#items.get(`${namespace ?? ''}/${name}`);
  }

  values(): IterableIterator<Obj> {
    return this.#items.values();
  }
}
