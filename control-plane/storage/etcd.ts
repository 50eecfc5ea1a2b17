import { Etcd3, type IKeyValue, type IRequestOp } from 'etcd3';
import {
  StorageError,
  prefixEnd,
  startAfterWithin,
  type CompactionClaim,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
} from './types.ts';

const buf = (s: string) => Buffer.from(s);

/** The key whose version counts compaction rounds among servers (kube-apiserver uses the same one). */
const COMPACTION_KEY = 'compact_rev_key';

/** Keys per range request when a list has no limit (keeps replies well under gRPC's 4 MiB). */
const LIST_PAGE = 500;

function toKeyValue(kv: IKeyValue): KeyValue {
  return { key: kv.key.toString(), value: kv.value.toString(), createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision) };
}

/** etcd's MVCC refusals ("required revision has been compacted", "... is a future revision") as StorageErrors; others as they are. */
function revisionError(err: unknown, revision: number | undefined): unknown {
  const message = (err as Error).message;
  if (/compacted/.test(message)) return new StorageError('Compacted', `revision ${revision} has been compacted`);
  if (/future revision/.test(message)) return new StorageError('FutureRevision', `revision ${revision} is a future revision`);
  return err;
}

/**
 * Storage on an etcd v3 cluster. etcd's own MVCC revision is the
 * resourceVersion; conditional writes are transactions comparing mod or
 * create revisions, as kube-apiserver's etcd3 store does.
 */
export class EtcdStorage implements Storage {
  // other servers write to the same cluster; their writes arrive later
  readonly watchIsSynchronous = false;
  readonly #client: Etcd3;

  constructor(hosts: string[]) {
    // retries go to the next member when one is down
    this.#client = new Etcd3({ hosts, dialTimeout: 3000 });
  }

  async get(key: string): Promise<KeyValue | null> {
    const res = await this.#client.kv.range({ key: buf(key) });
    const kv = res.kvs[0];
    return kv ? toKeyValue(kv) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    try {
      return await this.#list(prefix, opts);
    } catch (err) {
      throw revisionError(err, opts.revision);
    }
  }

  async #list(prefix: string, opts: ListOptions): Promise<ListResult> {
    const end = buf(prefixEnd(prefix));
    const startAfter = startAfterWithin(prefix, opts.startAfter);
    let start = startAfter ? `${startAfter}\0` : prefix;
    const at = opts.revision ? { revision: opts.revision } : {};
    if (opts.limit && opts.limit > 0) {
      const res = await this.#client.kv.range({ key: buf(start), range_end: end, limit: opts.limit, sort_order: 'Ascend', sort_target: 'Key', ...at });
      return { items: res.kvs.map(toKeyValue), revision: opts.revision ?? Number(res.header.revision), more: res.more };
    }
    // unbounded: read in pages at one pinned revision, so no gRPC message
    // outgrows its size limit and the result is still one snapshot
    const items: KeyValue[] = [];
    let revision = opts.revision;
    for (;;) {
      const res = await this.#client.kv.range({
        key: buf(start),
        range_end: end,
        limit: LIST_PAGE,
        sort_order: 'Ascend',
        sort_target: 'Key',
        ...(revision ? { revision } : {}),
      });
      revision ??= Number(res.header.revision);
      for (const kv of res.kvs) items.push(toKeyValue(kv));
      const last = items[items.length - 1];
      if (!res.more || !last) break;
      start = `${last.key}\0`;
    }
    return { items, revision: revision ?? 0, more: false };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const res = await this.#client.kv.txn({
      compare: [{ key: buf(key), target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: buf(key), value: buf(value) } }],
      failure: [],
    });
    if (!res.succeeded) throw new StorageError('KeyExists', `key ${key} exists`);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  /** Runs `op` if the key's mod revision is `expected` (or it exists, when undefined); explains failure. */
  async #conditional(key: string, expected: number | undefined, op: IRequestOp): Promise<{ revision: number; prev: KeyValue }> {
    const compare =
      expected === undefined
        ? { key: buf(key), target: 'Create' as const, result: 'Greater' as const, create_revision: 0 }
        : { key: buf(key), target: 'Mod' as const, result: 'Equal' as const, mod_revision: expected };
    const res = await this.#client.kv.txn({ compare: [compare], success: [op], failure: [{ request_range: { key: buf(key) } }] });
    if (!res.succeeded) {
      const current = res.responses[0]?.response_range?.kvs[0];
      if (!current) throw new StorageError('KeyNotFound', `key ${key} not found`);
      throw new StorageError('Conflict', `key ${key} is at revision ${current.mod_revision}, not ${expected}`);
    }
    const r = res.responses[0];
    const prev = r?.response_put?.prev_kv ?? r?.response_delete_range?.prev_kvs[0];
    if (!prev) throw new StorageError('KeyNotFound', `key ${key} not found`);
    return { revision: Number(res.header.revision), prev: toKeyValue(prev) };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const { revision, prev } = await this.#conditional(key, expectedRevision, { request_put: { key: buf(key), value: buf(value), prev_kv: true } });
    return { key, value, createRevision: prev.createRevision, modRevision: revision };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    const { revision, prev } = await this.#conditional(key, expectedRevision, { request_delete_range: { key: buf(key), prev_kv: true } });
    return { ...prev, modRevision: revision };
  }

  async watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void, onEnded?: (err: StorageError) => void): Promise<() => void> {
    if (fromRevision > 0) await this.#checkNotCompacted(prefix, fromRevision);
    const builder = this.#client.watch().prefix(prefix).withPreviousKV();
    if (fromRevision > 0) builder.startRevision(String(fromRevision + 1));
    const watcher = await builder.create();
    // cancelling takes a round trip, and events already on the way still come: a stopped watch drops them
    let stopped = false;
    watcher.on('put', (kv: IKeyValue, prevKv?: IKeyValue) => {
      if (stopped) return;
      const k = toKeyValue(kv);
      onEvent({ type: 'put', kv: k, created: k.createRevision === k.modRevision, ...(prevKv ? { prev: toKeyValue(prevKv) } : {}) });
    });
    watcher.on('delete', (kv: IKeyValue, prevKv?: IKeyValue) => {
      if (stopped) return;
      const prev = prevKv ? toKeyValue(prevKv) : { key: kv.key.toString(), value: '{}', createRevision: 0, modRevision: 0 };
      onEvent({ type: 'delete', kv: { ...prev, modRevision: Number(kv.mod_revision) }, created: false, prev });
    });
    // etcd cancels a watch whose resume revision was compacted while it reconnected
    watcher.on('error', (err: Error) => {
      if (!stopped) onEnded?.(new StorageError('Compacted', `watch of ${prefix} ended: ${err.message}`));
    });
    return () => {
      stopped = true;
      void watcher.cancel();
    };
  }

  /**
   * etcd refuses a read at a compacted revision: that is how we learn the
   * history is gone. The revision itself must be kept, as the other backend
   * holds it: a compaction at the next one may have dropped a deletion's
   * tombstone there, and a watch from it would never hear of that deletion.
   */
  async #checkNotCompacted(prefix: string, revision: number): Promise<void> {
    const current = await this.currentRevision();
    if (revision >= current) return;
    try {
      await this.#client.kv.range({ key: buf(prefix), range_end: buf(prefixEnd(prefix)), revision, limit: 1, keys_only: true } as never);
    } catch (err) {
      throw revisionError(err, revision);
    }
  }

  async unchangedSince(prefix: string, revision: number, keys: number): Promise<number | undefined> {
    // one snapshot: how many keys there are, and which were written after the revision (etcd's
    // count ignores that filter, so the keys themselves); a deletion shows as one key fewer,
    // since any key made after it would be among the written ones
    const range = { key: buf(prefix), range_end: buf(prefixEnd(prefix)) };
    const res = await this.#client.kv.txn({
      compare: [],
      success: [{ request_range: { ...range, count_only: true } }, { request_range: { ...range, keys_only: true, min_mod_revision: revision + 1 } }],
      failure: [],
    });
    const [all, written] = res.responses.map((r) => r.response_range);
    // (a count of 0 comes as no count at all)
    if (!all || !written || Number(all.count ?? 0) !== keys || written.kvs.length > 0) return undefined;
    return Number(res.header.revision);
  }

  async currentRevision(): Promise<number> {
    const res = await this.#client.kv.range({ key: buf('\0'), limit: 1, keys_only: true } as never);
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.#client.kv.compact({ revision, physical: true });
    } catch (err) {
      throw revisionError(err, revision);
    }
  }

  async claimCompaction(round: number, revision: number): Promise<CompactionClaim> {
    // the key's version counts the rounds; its value says how far the last one compacts
    const key = buf(COMPACTION_KEY);
    const res = await this.#client.kv.txn({
      compare: [{ key, target: 'Version', result: 'Equal', version: round }],
      success: [{ request_put: { key, value: buf(String(revision)) } }],
      failure: [{ request_range: { key } }],
    });
    const now = Number(res.header.revision);
    if (res.succeeded) return { claimed: true, round: round + 1, revision: now };
    const current = res.responses[0]?.response_range?.kvs[0];
    return { claimed: false, round: Number(current?.version ?? 0), revision: now };
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}
