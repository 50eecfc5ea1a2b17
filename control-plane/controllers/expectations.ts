/**
 * What a controller has asked the API for and not yet seen in its informer:
 * until the pods it created (deleted) show up (go away), it must not count
 * them again, or it would create (delete) twice. An expectation older than
 * five minutes is treated as met, so a lost watch event cannot wedge a key.
 */
export class Expectations {
  #pending = new Map<string, { adds: number; deletes: number; since: number }>();
  static readonly TTL_MS = 5 * 60_000;

  expect(key: string, adds: number, deletes: number): void {
    this.#pending.set(key, { adds, deletes, since: Date.now() });
  }

  creationObserved(key: string): void {
    const e = this.#pending.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  deletionObserved(key: string): void {
    const e = this.#pending.get(key);
    if (e && e.deletes > 0) e.deletes--;
  }

  satisfied(key: string): boolean {
    const e = this.#pending.get(key);
    return !e || (e.adds <= 0 && e.deletes <= 0) || Date.now() - e.since > Expectations.TTL_MS;
  }

  forget(key: string): void {
    this.#pending.delete(key);
  }
}
