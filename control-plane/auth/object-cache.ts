import type { Obj, Subscribe } from '../api/index.ts';

/**
 * An in-process mirror of one resource, kept current from storage: list
 * once, then watch from that revision. The API server reads policy from it
 * on every request without touching storage.
 */
export class ObjectCache {
  readonly #subscribe: Subscribe;
  readonly #items = new Map<string, Obj>();
  /** objects by the value `indexBy` gives them (pods by node), when asked for */
  readonly #indexBy: ((o: Obj) => string | undefined) | undefined;
  readonly #index = new Map<string, Map<string, Obj>>();
  #stop: (() => void) | undefined;

  constructor(subscribe: Subscribe, opts: { indexBy?: (o: Obj) => string | undefined } = {}) {
    this.#subscribe = subscribe;
    this.#indexBy = opts.indexBy;
  }

  #put(o: Obj): void {
    const key = this.#key(o);
    this.#unindex(this.#items.get(key));
    this.#items.set(key, o);
    const value = this.#indexBy?.(o);
    if (value === undefined) return;
    let members = this.#index.get(value);
    if (!members) this.#index.set(value, (members = new Map()));
    members.set(key, o);
  }

  #unindex(o: Obj | undefined): void {
    const value = o && this.#indexBy?.(o);
    if (value === undefined || !o) return;
    const members = this.#index.get(value);
    members?.delete(this.#key(o));
    if (members?.size === 0) this.#index.delete(value);
  }

  #key(o: Obj): string {
    return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  }

  async start(): Promise<void> {
    this.#stop = await this.#subscribe({
      list: (items) => {
        this.#items.clear();
        this.#index.clear();
        for (const o of items) this.#put(o);
      },
      event: (e) => {
        if (e.type !== 'DELETED') return this.#put(e.object);
        this.#unindex(this.#items.get(this.#key(e.object)));
        this.#items.delete(this.#key(e.object));
      },
    });
  }

  stop(): void {
    this.#stop?.();
  }

  get(namespace: string | undefined, name: string): Obj | undefined {
    return this.#items.get(`${namespace ?? ''}/${name}`);
  }

  /** The objects whose index value is `value`. */
  indexed(value: string): IterableIterator<Obj> {
    return (this.#index.get(value) ?? new Map<string, Obj>()).values();
  }

  values(): IterableIterator<Obj> {
    return this.#items.values();
  }
}
