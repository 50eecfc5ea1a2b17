/**
 * The free slots of a range [0, count), handed out in turn: each allocation
 * starts looking after the last one, so a slot given back is not reused at
 * once (Service ClusterIPs, node pod CIDRs).
 */
export class IndexAllocator {
  readonly #count: number;
  #used = new Set<number>();
  #next: number;

  constructor(count: number, opts: { firstTry?: number } = {}) {
    this.#count = count;
    this.#next = count > 0 ? (opts.firstTry ?? 0) % count : 0;
  }

  has(i: number): boolean {
    return this.#used.has(i);
  }

  /** Marks a slot taken (one known from elsewhere: stored objects, a request). */
  occupy(i: number): void {
    if (i >= 0 && i < this.#count) this.#used.add(i);
  }

  release(i: number): void {
    this.#used.delete(i);
  }

  /** The next free slot, taken; null when every slot is. */
  allocate(): number | null {
    for (let tried = 0; tried < this.#count; tried++) {
      const i = (this.#next + tried) % this.#count;
      if (this.#used.has(i)) continue;
      this.#used.add(i);
      this.#next = (i + 1) % this.#count;
      return i;
    }
    return null;
  }
}
