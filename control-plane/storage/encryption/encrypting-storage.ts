import { StorageLayer } from '../storage-layer.ts';
import type { KeyValue, ListOptions, ListResult, Storage, StorageError, StorageEvent } from '../types.ts';
import { resourceOfKey } from '../storage-key.ts';
import type { EncryptionRule } from './config.ts';
import type { Transformer } from './providers.ts';

// A store whose values of the configured resources are sealed on the way in
// and opened on the way out: everything above it (registries, watch caches,
// watches) sees plain objects, the database file and etcd only sealed ones.
// The storage key is the context a provider may bind a value to (aesgcm).

/** Whether a configured name (secrets, deployments.apps, *.apps, *., *.*) covers a group/resource. */
function covers(name: string, group: string, resource: string): boolean {
  const dot = name.indexOf('.');
  const [r, g] = dot < 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1)];
  return (r === '*' || r === resource) && (g === '*' || g === group);
}

export class EncryptingStorage extends StorageLayer {
  readonly #rules: EncryptionRule[];
  /** per group/resource: the transformers that apply, first match in file order (none: stored plain) */
  readonly #byResource = new Map<string, Transformer[] | undefined>();

  constructor(inner: Storage, rules: EncryptionRule[]) {
    super(inner);
    this.#rules = rules;
  }

  #transformers(key: string): Transformer[] | undefined {
    const of = resourceOfKey(key);
    if (!of) return undefined;
    const id = `${of.group}/${of.resource}`;
    if (!this.#byResource.has(id)) this.#byResource.set(id, this.#rules.find((r) => r.resources.some((n) => covers(n, of.group, of.resource)))?.transformers);
    return this.#byResource.get(id);
  }

  #seal(key: string, value: string): string {
    const writer = this.#transformers(key)?.[0];
    if (!writer || writer.prefix === '') return value;
    return writer.prefix + writer.seal(Buffer.from(value), key).toString('base64');
  }

  #open<T extends KeyValue | null | undefined>(kv: T): T {
    if (!kv) return kv;
    const readers = this.#transformers(kv.key);
    if (!readers) return kv;
    const sealed = kv.value.startsWith('k8s:enc:');
    const reader = readers.find((t) => (sealed ? t.prefix !== '' && kv.value.startsWith(t.prefix) : t.prefix === ''));
    if (!reader) throw new Error(`unable to transform key "${kv.key}": no matching prefix found`);
    if (reader.prefix === '') return kv;
    const plain = reader.open(Buffer.from(kv.value.slice(reader.prefix.length), 'base64'), kv.key).toString();
    return { ...kv, value: plain };
  }

  override async get(key: string): Promise<KeyValue | null> {
    return this.#open(await this.inner.get(key));
  }

  override async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    const page = await this.inner.list(prefix, opts);
    return { ...page, items: page.items.map((kv) => this.#open(kv)) };
  }

  override async create(key: string, value: string): Promise<KeyValue> {
    return { ...(await this.inner.create(key, this.#seal(key, value))), value };
  }

  override async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return { ...(await this.inner.update(key, this.#seal(key, value), expectedRevision)), value };
  }

  override async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.#open(await this.inner.delete(key, expectedRevision));
  }

  override watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void, onEnded?: (err: StorageError) => void): Promise<() => void> {
    return this.inner.watch(prefix, fromRevision, (e) => onEvent({ ...e, kv: this.#open(e.kv), ...(e.prev ? { prev: this.#open(e.prev) } : {}) }), onEnded);
  }
}
