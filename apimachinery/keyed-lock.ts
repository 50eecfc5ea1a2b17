/**
 * Runs work one at a time per key and concurrently across keys, in the order
 * it was asked for (the kubelet's per-volume operation lock).
 */
export class KeyedLock {
  #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(work);
    const tail = mine.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await mine;
    } finally {
      // the last in line clears the key, so idle keys hold nothing
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
