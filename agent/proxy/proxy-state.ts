import { ELEMENT_SETS, emptyFragment, type ElementSet, type Fragment } from './proxy-model.ts';

/** What one transaction changes: what goes, what comes, what is refilled. */
export interface ProxyDelta {
  elements: Record<ElementSet, { removed: string[]; added: Map<string, string> }>;
  chains: { removed: string[]; added: Map<string, string>; changed: Map<string, string> };
  affinitySets: { removed: string[]; added: Map<string, string> };
}

/** A value several fragments may hold (a shared picker chain, one pod in two Services' hairpin set). */
interface Held {
  value: string;
  holders: number;
}

/** One collection of the table (chains, sets, or one map's elements) with its holders and what a change touched. */
class Collection {
  readonly items = new Map<string, Held>();
  /** the value each touched key had before the change (undefined: absent) */
  #before = new Map<string, string | undefined>();
  /** off while a new state is filled for a full rewrite: there is nothing to compare with */
  tracking = false;

  #touch(key: string): void {
    if (this.tracking && !this.#before.has(key)) this.#before.set(key, this.items.get(key)?.value);
  }

  add(key: string, value: string): void {
    this.#touch(key);
    const held = this.items.get(key);
    if (held && held.value === value) held.holders++;
    else this.items.set(key, { value, holders: 1 });
  }

  remove(key: string, value: string): void {
    this.#touch(key);
    const held = this.items.get(key);
    if (!held || held.value !== value) return;
    if (--held.holders === 0) this.items.delete(key);
  }

  /** What changed since the last call: keys gone, keys new, keys whose value changed. From now on, changes are tracked. */
  take(): { removed: string[]; added: Map<string, string>; changed: Map<string, string> } {
    this.tracking = true;
    const out = { removed: [] as string[], added: new Map<string, string>(), changed: new Map<string, string>() };
    for (const [key, before] of this.#before) {
      const after = this.items.get(key)?.value;
      if (before === after) continue;
      if (after === undefined) out.removed.push(key);
      else if (before === undefined) out.added.set(key, after);
      else out.changed.set(key, after);
    }
    this.#before.clear();
    return out;
  }

  values(): Map<string, string> {
    return new Map([...this.items].map(([k, h]) => [k, h.value]));
  }
}

/**
 * The table's contents as the sum of each Service's fragment (kube-proxy's
 * change tracker, for nftables): replacing one Service's fragment records
 * exactly what the table must change, so a partial sync costs what changed,
 * not what exists. A new state tracks nothing until its first takeDelta():
 * it is being filled for a full rewrite, and that delta is empty.
 */
export class ProxyState {
  #fragments = new Map<string, Fragment>();
  #chains = new Collection();
  #sets = new Collection();
  #elements = Object.fromEntries(ELEMENT_SETS.map((s) => [s, new Collection()])) as Record<ElementSet, Collection>;

  /** Puts a Service's fragment in place of what it had (none: the Service is gone). */
  replace(key: string, next: Fragment | undefined): void {
    const prev = this.#fragments.get(key);
    if (prev) this.#apply(prev, (c, k, v) => c.remove(k, v));
    if (next) {
      this.#apply(next, (c, k, v) => c.add(k, v));
      this.#fragments.set(key, next);
    } else this.#fragments.delete(key);
  }

  #apply(f: Fragment, op: (c: Collection, key: string, value: string) => void): void {
    for (const [k, v] of f.chains) op(this.#chains, k, v);
    for (const [k, v] of f.affinitySets) op(this.#sets, k, v);
    for (const s of ELEMENT_SETS) for (const [k, v] of f.elements[s]) op(this.#elements[s], k, v);
  }

  /** What the replacements since the last call changed. */
  takeDelta(): ProxyDelta {
    const chains = this.#chains.take();
    const sets = this.#sets.take();
    const elements = Object.fromEntries(
      ELEMENT_SETS.map((s) => {
        const d = this.#elements[s].take();
        // a changed element is deleted and added again
        return [s, { removed: [...d.removed, ...d.changed.keys()], added: new Map([...d.added, ...d.changed]) }];
      }),
    ) as ProxyDelta['elements'];
    // a set's body is in its name (the affinity timeout): it never changes in place
    return { elements, chains, affinitySets: { removed: sets.removed, added: sets.added } };
  }

  /** Everything the table holds now, for a full rewrite. */
  contents(): Fragment {
    const f = emptyFragment();
    f.chains = this.#chains.values();
    f.affinitySets = this.#sets.values();
    for (const s of ELEMENT_SETS) f.elements[s] = this.#elements[s].values();
    return f;
  }
}
