import { randomUUID } from 'node:crypto';
import {
  ApiError,
  errors,
  fieldErrors,
  matchesFields,
  matchesLabels,
  rfc3339,
  type FieldSelector,
  type LabelSelector,
  type StatusCause,
} from '../../apimachinery/index.ts';
import { StorageError, type KeyValue, type Storage, type StorageEvent } from '../storage/index.ts';
import { apiVersionOf, PROPAGATION_FINALIZERS, type Obj, type PropagationPolicy, type ResourceInfo } from './resource-info.ts';
import { checkMetadataTypes, validateObjectMeta, type MetaRules } from './validate-meta.ts';
import { recordUpdate, type WriteScope } from './apply/managed-fields.ts';
import { WatchCache, type CachedObject } from './watch-cache.ts';
import { CONTINUE_TOO_OLD, LATEST, LIST_TOO_OLD, tooLargeResourceVersion, type ListRead } from './list-read.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';

export interface ListOptions {
  namespace?: string;
  labels?: LabelSelector;
  fields?: FieldSelector;
  limit?: number;
  continue?: string;
  /** which state to read; the newest when absent */
  read?: ListRead;
}

export interface ListOutput {
  items: Obj[];
  /** the items already encoded, when they come from the watch cache */
  json?: string[];
  resourceVersion: string;
  continue?: string;
}

/** Options of a write; fieldManager, when given, is recorded in managedFields as an Update. */
export interface WriteOptions {
  subresource?: string;
  dryRun?: boolean;
  fieldManager?: string;
  /** the subresource managedFields names when it is not the one written (a scale write changes the main resource) */
  managedSubresource?: string;
}

/** A running watch: how to stop it, and the revision it has been told every event up to (0: unknown). */
export interface RegistryWatch {
  stop(): void;
  progress(): Promise<number>;
}

export interface WatchOutput {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

function specChanged(a: Obj, b: Obj): boolean {
  const strip = (o: Obj) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return JSON.stringify(rest);
  };
  return strip(a) !== strip(b);
}

/**
 * A name or namespace becomes one segment of a storage key: one that could
 * reach another key's place ('/', '.', '..', '%') is refused as kube-apiserver
 * refuses it (400).
 */
function checkPathSegment(what: 'Name' | 'Namespace', value: string): void {
  const problems = [
    ...(value === '.' || value === '..' ? [`may not be '${value}'`] : []),
    ...['/', '%'].filter((c) => value.includes(c)).map((c) => `may not contain '${c}'`),
  ];
  if (problems.length) throw errors.badRequest(`${what} parameter invalid: ${JSON.stringify(value)}: ${problems.join(';')}`);
}

/**
 * The generic REST store for one resource: turns API verbs into storage
 * operations with Kubernetes metadata semantics (uid, generateName,
 * generation, resourceVersion preconditions, graceful deletion, finalizers).
 */
export class Registry {
  readonly info: ResourceInfo;
  #storage: Storage;
  /** set once started */
  #cache: WatchCache | undefined;
  readonly #decoded = new WeakMap<KeyValue, Obj>();

  constructor(info: ResourceInfo, storage: Storage) {
    this.info = info;
    this.#storage = storage;
  }

  /** how many objects the watch cache holds; undefined without one */
  get cachedCount(): number | undefined {
    return this.#cache?.size;
  }

  get prefix(): string {
    const { group, resource } = this.info.storage ?? this.info;
    return `/registry/${group ? `${group}/` : ''}${resource}/`;
  }

  #decode(kv: KeyValue): Obj {
    const stored = JSON.parse(kv.value) as Obj;
    const obj = this.info.storage ? this.info.storage.fromStorage(stored) : stored;
    obj.metadata.resourceVersion = String(kv.modRevision);
    return obj;
  }

  /**
   * Decodes one stored version once for all its readers: every watcher of a
   * synchronous store, and the watch cache, is handed the same KeyValue. The
   * object is shared, so readers must not change it.
   */
  #decodeShared(kv: KeyValue): Obj {
    let obj = this.#decoded.get(kv);
    if (!obj) {
      obj = this.#decode(kv);
      this.#decoded.set(kv, obj);
    }
    return obj;
  }

  #encode(obj: Obj): string {
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    const plain = { ...obj, metadata };
    return JSON.stringify(this.info.storage ? this.info.storage.toStorage(plain) : plain);
  }

  keyOf(namespace: string | undefined, name: string): string {
    checkPathSegment('Name', name);
    if (!this.info.namespaced) return `${this.prefix}${name}`;
    checkPathSegment('Namespace', namespace ?? '');
    return `${this.prefix}${namespace}/${name}`;
  }

  #notFound(name: string): ApiError {
    return errors.notFound(this.info.resource, this.info.group, name);
  }

  #fromStorage(err: unknown, name: string): never {
    if (err instanceof StorageError) {
      if (err.code === 'KeyNotFound') throw this.#notFound(name);
      if (err.code === 'KeyExists') throw errors.alreadyExists(this.info.resource, this.info.group, name);
      if (err.code === 'Conflict')
        throw errors.conflict(
          this.info.resource,
          this.info.group,
          name,
          'the object has been modified; please apply your changes to the latest version and try again',
        );
      if (err.code === 'Compacted') throw errors.gone(err.message);
      if (err.code === 'NoSpace') throw new ApiError('InternalError', `Internal error occurred: ${err.message}`);
    }
    throw err;
  }

  /** Where a list or watch of one namespace (or all) reads. */
  #listPrefix(namespace: string | undefined): string {
    if (!this.info.namespaced || !namespace) return this.prefix;
    checkPathSegment('Namespace', namespace);
    return `${this.prefix}${namespace}/`;
  }

  async get(namespace: string | undefined, name: string): Promise<Obj> {
    const kv = await this.#storage.get(this.keyOf(namespace, name));
    if (!kv) throw this.#notFound(name);
    return this.#decode(kv);
  }

  /** Starts answering lists from a watch cache. */
  async startCache(): Promise<void> {
    if (this.#cache) return;
    const cache = new WatchCache(this.prefix, this.#storage, (kv) => this.#decodeShared(kv));
    await cache.start();
    this.#cache = cache;
  }

  stopCache(): void {
    this.#cache?.stop();
    this.#cache = undefined;
  }

  /**
   * Lists matching objects. Pages after the first read the revision the first
   * one did; from the watch cache the items are shared, so callers must not change them.
   */
  async list(opts: ListOptions): Promise<ListOutput> {
    const prefix = this.#listPrefix(opts.namespace);
    const token = opts.continue ? decodeContinue(opts.continue, prefix) : undefined;
    const read = opts.read ?? LATEST;
    const exact = token && token.rv > 0 ? token.rv : read.match === 'Exact' ? read.revision : undefined;
    if (this.#cache) {
      // the newest state, a minimum the cache has not reached, or an exact revision past it:
      // the cache may still hold it, if the store has not changed under its prefix since
      const lagging =
        read.match === 'Latest' ||
        (read.match === 'NotOlderThan' && read.revision > this.#cache.revision) ||
        (exact !== undefined && exact > this.#cache.revision);
      const fresh = !lagging || (await this.#cache.catchUp());
      const cached = await this.#cache.list(prefix, token?.startAfter);
      if (this.#cacheAnswers(read, exact, cached.revision, fresh)) return this.#listCached(cached, prefix, opts);
    }
    let out: ListOutput;
    try {
      out = await this.#listStored(prefix, token?.startAfter, exact, opts);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      if (err.code === 'FutureRevision') throw tooLargeResourceVersion(exact ?? 0, await this.#storage.currentRevision());
      if (err.code !== 'Compacted') throw err;
      if (!token) throw errors.gone(LIST_TOO_OLD);
      // the rest of the list can still be had, only no longer as one snapshot
      throw errors.gone(CONTINUE_TOO_OLD, { continue: encodeContinue(token.startAfter, prefix, -1) });
    }
    if (read.match === 'NotOlderThan' && Number(out.resourceVersion) < read.revision) throw tooLargeResourceVersion(read.revision, Number(out.resourceVersion));
    return out;
  }

  /**
   * Whether the watch cache, at `revision`, holds the state a read asks for.
   * It holds only its newest state; where it hears of writes asynchronously
   * (etcd) that may lag the store, so the newest state comes from it only when
   * it has just been found `fresh`.
   */
  #cacheAnswers(read: ListRead, exact: number | undefined, revision: number, fresh: boolean): boolean {
    if (exact !== undefined) return revision === exact;
    if (read.match === 'NotOlderThan') return revision >= read.revision;
    return fresh;
  }

  async #listStored(prefix: string, startAfter: string | undefined, revision: number | undefined, opts: ListOptions): Promise<ListOutput> {
    const items: Obj[] = [];
    // page through storage until `limit` matching items are found
    for (;;) {
      const page = await this.#storage.list(prefix, { limit: opts.limit ? Math.max(opts.limit, 100) : undefined, startAfter, revision });
      revision = page.revision;
      for (const kv of page.items) {
        const obj = this.#decode(kv);
        if (this.matches(obj, opts)) items.push(obj);
        startAfter = kv.key;
        if (opts.limit && items.length >= opts.limit) {
          const last = page.items[page.items.length - 1];
          const more = page.more || kv !== last;
          return { items, resourceVersion: String(revision), ...(more ? { continue: encodeContinue(kv.key, prefix, revision) } : {}) };
        }
      }
      if (!page.more) break;
    }
    return { items, resourceVersion: String(revision ?? 0) };
  }

  #listCached({ objects, revision }: { objects: CachedObject[]; revision: number }, prefix: string, opts: ListOptions): ListOutput {
    const items: Obj[] = [];
    const json: string[] = [];
    for (let i = 0; i < objects.length; i++) {
      const cached = objects[i] as CachedObject;
      if (!this.matches(cached.obj, opts)) continue;
      items.push(cached.obj);
      json.push(cached.json);
      if (opts.limit && items.length >= opts.limit && i < objects.length - 1) {
        return { items, json, resourceVersion: String(revision), continue: encodeContinue(cached.key, prefix, revision) };
      }
    }
    return { items, json, resourceVersion: String(revision) };
  }

  matches(obj: Obj, opts: Pick<ListOptions, 'namespace' | 'labels' | 'fields'>): boolean {
    if (this.info.namespaced && opts.namespace && obj.metadata.namespace !== opts.namespace) return false;
    if (opts.labels && !matchesLabels(opts.labels, obj.metadata.labels)) return false;
    if (opts.fields && !matchesFields(opts.fields, obj)) return false;
    return true;
  }

  get #metaRules(): MetaRules {
    // apiextensions (CRDs) validates metadata as custom resources do, not as the core API does
    const builtIn = !this.info.unstructured && this.info.group !== 'apiextensions.k8s.io';
    return { namespaced: this.info.namespaced, nameRule: this.info.strategy?.nameRule, builtIn };
  }

  #fillRequiredStatus(obj: Obj): void {
    const required = this.info.strategy?.requiredStatus;
    if (required) obj.status = { ...structuredClone(required), ...(obj.status ?? {}) };
  }

  #validate(obj: Obj, causes: StatusCause[]): void {
    if (causes.length > 0) throw errors.invalid(this.info.kind, this.info.group, obj.metadata.name ?? obj.metadata.generateName ?? '', causes);
  }

  /**
   * Refuses a body that is no object of this kind's shape (what kube-apiserver's
   * decoder refuses before any admission plugin sees it); metadata it lacks is empty.
   */
  checkShape(obj: Obj): void {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj) || typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)) {
      if (obj && typeof obj === 'object' && !Array.isArray(obj) && (obj.metadata === undefined || obj.metadata === null)) obj.metadata = {};
      else throw errors.badRequest('the request body must be a JSON object with metadata');
    }
    checkMetadataTypes(this.info, obj.metadata as Record<string, unknown>);
  }

  /** Checks the object's identity against the request and fills in apiVersion and kind. */
  #normalise(obj: Obj, namespace: string | undefined): void {
    this.checkShape(obj);
    const expected = apiVersionOf(this.info);
    if (obj.apiVersion && obj.apiVersion !== expected)
      throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
    if (obj.kind && obj.kind !== this.info.kind)
      throw errors.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${this.info.kind})`);
    obj.apiVersion = expected;
    obj.kind = this.info.kind;
    if (this.info.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = namespace ?? obj.metadata.namespace;
    } else {
      delete obj.metadata.namespace;
    }
  }

  async create(namespace: string | undefined, obj: Obj, opts: WriteOptions = {}): Promise<Obj> {
    this.#normalise(obj, namespace);
    const m = obj.metadata;
    if (!m.name && m.generateName) m.name = `${m.generateName}${randomSuffix()}`;
    const causes: StatusCause[] = validateObjectMeta(m, this.#metaRules);
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339();
    m.generation = 1;
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    this.info.strategy?.defaults?.(obj);
    this.info.strategy?.prepareForCreate?.(obj);
    this.#fillRequiredStatus(obj);
    if (opts.fieldManager !== undefined) recordUpdate(undefined, obj, this.writeScope(opts.fieldManager, ''));
    this.#validate(obj, [...causes, ...(this.info.strategy?.validate?.(obj) ?? [])]);
    const reservation = this.info.strategy?.reserve?.(obj);
    if (reservation) this.#validate(obj, reservation.causes);
    try {
      if (opts.dryRun) {
        if (await this.#storage.get(this.keyOf(m.namespace, m.name as string)))
          throw errors.alreadyExists(this.info.resource, this.info.group, m.name as string);
        return obj;
      }
      return this.#decode(await this.#storage.create(this.keyOf(m.namespace, m.name as string), this.#encode(obj)));
    } catch (err) {
      if (!opts.dryRun) reservation?.release();
      return this.#fromStorage(err, m.name as string);
    } finally {
      if (opts.dryRun) reservation?.release();
    }
  }

  /**
   * Replaces the object (or, for subresource "status", only its status).
   * A resourceVersion in the body is a precondition; without one the update is unconditional.
   */
  async update(namespace: string | undefined, name: string, obj: Obj, opts: WriteOptions = {}): Promise<Obj> {
    this.#normalise(obj, namespace);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    const old = await this.get(namespace, name);
    // a uid in the body is a precondition of the update
    const uid = obj.metadata.uid;
    if (uid && uid !== old.metadata.uid)
      throw errors.conflict(
        this.info.resource,
        this.info.group,
        name,
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata.uid}`,
      );
    return this.#replace(old, obj, opts);
  }

  /** What a write by `manager` to `subresource` can own. */
  writeScope(manager: string, subresource: string): WriteScope {
    return { manager, apiVersion: apiVersionOf(this.info), subresource, statusSeparate: this.info.subresources?.includes('status') ?? false };
  }

  async #replace(old: Obj, obj: Obj, opts: WriteOptions): Promise<Obj> {
    const name = old.metadata.name as string;
    const precondition = obj.metadata.resourceVersion;
    if (precondition && !/^\d+$/.test(precondition)) {
      throw errors.invalid(this.info.kind, this.info.group, name, [
        fieldErrors.invalid('metadata.resourceVersion', precondition, `strconv.ParseUint: parsing ${JSON.stringify(precondition)}: invalid syntax`),
      ]);
    }
    if (precondition && precondition !== old.metadata.resourceVersion) {
      throw errors.conflict(
        this.info.resource,
        this.info.group,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    let next: Obj;
    if (opts.subresource === 'status') {
      // a status write may carry label and annotation changes (Kubernetes keeps them), never spec changes
      const metadata = {
        ...old.metadata,
        labels: obj.metadata.labels ?? old.metadata.labels,
        annotations: obj.metadata.annotations ?? old.metadata.annotations,
      };
      if (metadata.labels === undefined) delete metadata.labels;
      if (metadata.annotations === undefined) delete metadata.annotations;
      next = { ...old, metadata, status: obj.status };
    } else if (opts.subresource === 'finalize') {
      // namespaces/finalize: only spec.finalizers change
      next = { ...old, spec: { ...(old.spec ?? {}), finalizers: obj.spec?.finalizers ?? [] } };
    } else if (opts.subresource === 'ephemeralcontainers') {
      // pods/ephemeralcontainers: only spec.ephemeralContainers change, and only by additions
      next = { ...old, spec: { ...(old.spec ?? {}), ephemeralContainers: obj.spec?.ephemeralContainers ?? [] } };
      this.#validate(next, this.info.strategy?.validateEphemeralContainers?.(next, old) ?? []);
    } else if (opts.subresource === 'approval') {
      // certificatesigningrequests/approval: only the Approved/Denied conditions change
      next = { ...old, status: { ...(old.status ?? {}), conditions: obj.status?.conditions } };
    } else if (opts.subresource) {
      // a server-side subresource (binding) already produced the whole object
      next = obj;
    } else {
      next = { ...obj, metadata: { ...obj.metadata } };
      if (this.info.subresources?.includes('status')) next.status = old.status;
      const m = next.metadata;
      if (m.uid && m.uid !== old.metadata.uid) this.#validate(next, [fieldErrors.invalid('metadata.uid', m.uid, 'field is immutable')]);
      // identity and server-owned metadata cannot be changed by an update
      m.name = old.metadata.name;
      m.namespace = old.metadata.namespace;
      m.uid = old.metadata.uid;
      m.creationTimestamp = old.metadata.creationTimestamp;
      m.deletionTimestamp = old.metadata.deletionTimestamp;
      m.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      m.generation = old.metadata.generation ?? 1;
      // a body without managedFields leaves them as they were
      if (m.managedFields === undefined && old.metadata.managedFields !== undefined) m.managedFields = old.metadata.managedFields;
      if (m.deletionTimestamp === undefined) delete m.deletionTimestamp;
      if (m.deletionGracePeriodSeconds === undefined) delete m.deletionGracePeriodSeconds;
      this.info.strategy?.defaults?.(next);
      this.info.strategy?.prepareForUpdate?.(next, old);
      if (specChanged(next, old)) m.generation = (old.metadata.generation ?? 1) + 1;
      const causes = [
        ...validateObjectMeta(m, this.#metaRules),
        ...(this.info.strategy?.validateUpdate?.(next, old) ?? this.info.strategy?.validate?.(next) ?? []),
      ];
      this.#validate(next, causes);
    }
    const reservation = opts.subresource ? undefined : this.info.strategy?.reserveUpdate?.(next, old);
    if (reservation) this.#validate(next, reservation.causes);
    try {
      const stored = await this.#store(old, next, name, opts);
      if (opts.dryRun) reservation?.release();
      else reservation?.commit();
      return stored;
    } catch (err) {
      reservation?.release();
      throw err;
    }
  }

  /** The storage half of #replace: an update, or the removal of an object whose last finalizer went. */
  async #store(old: Obj, next: Obj, name: string, opts: WriteOptions): Promise<Obj> {
    this.#fillRequiredStatus(next);
    if (opts.fieldManager !== undefined) recordUpdate(old, next, this.writeScope(opts.fieldManager, opts.managedSubresource ?? opts.subresource ?? ''));
    if (opts.dryRun) return next;
    // the last finalizer removed from an object being deleted: it goes away now
    if (
      next.metadata.deletionTimestamp &&
      (next.metadata.finalizers ?? []).length === 0 &&
      !this.info.strategy?.pendingFinalizers?.(next) &&
      this.#gracefulDone(next)
    ) {
      return this.#remove(next, Number(old.metadata.resourceVersion));
    }
    try {
      return this.#decode(await this.#storage.update(this.keyOf(old.metadata.namespace, name), this.#encode(next), Number(old.metadata.resourceVersion)));
    } catch (err) {
      this.#fromStorage(err, name);
    }
  }

  /** Read-modify-write with retries on conflict: `mutate` returns the new object. */
  async guaranteedUpdate(namespace: string | undefined, name: string, mutate: (current: Obj) => Obj | Promise<Obj>, opts: WriteOptions = {}): Promise<Obj> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(namespace, name);
      const rv = current.metadata.resourceVersion;
      const next = await mutate(structuredClone(current));
      this.#normalise(next, namespace);
      if (next.metadata.name !== name) throw errors.badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
      if (next.metadata.resourceVersion === undefined) next.metadata.resourceVersion = rv;
      try {
        return await this.#replace(current, next, opts);
      } catch (err) {
        const retriable = err instanceof ApiError && err.reason === 'Conflict' && next.metadata.resourceVersion === rv && attempt < 5;
        if (!retriable) throw err;
      }
    }
  }

  #gracefulDone(obj: Obj): boolean {
    return (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0;
  }

  async #remove(obj: Obj, expectedRevision: number): Promise<Obj> {
    try {
      const kv = await this.#storage.delete(this.keyOf(obj.metadata.namespace, obj.metadata.name as string), expectedRevision);
      const removed = this.#decode(kv);
      this.info.strategy?.afterDelete?.(removed);
      return removed;
    } catch (err) {
      this.#fromStorage(err, obj.metadata.name as string);
    }
  }

  /**
   * Deletes with Kubernetes semantics: objects with finalizers or a grace
   * period get deletionTimestamp and stay until the finalizers are gone and
   * the grace is over (or a delete with grace 0 comes); others go at once.
   * Returns the object and whether it is gone.
   */
  async delete(
    namespace: string | undefined,
    name: string,
    opts: {
      gracePeriodSeconds?: number;
      preconditions?: { uid?: string; resourceVersion?: string };
      propagationPolicy?: PropagationPolicy;
      dryRun?: boolean;
    } = {},
  ): Promise<{ obj: Obj; gone: boolean }> {
    // orphan and foreground deletion hand the object to the garbage collector through a finalizer
    const gcFinalizer = this.info.garbageCollection ? PROPAGATION_FINALIZERS[opts.propagationPolicy ?? this.info.garbageCollection] : undefined;
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(namespace, name);
      const m = current.metadata;
      if (opts.preconditions?.uid && opts.preconditions.uid !== m.uid) {
        throw errors.conflict(
          this.info.resource,
          this.info.group,
          name,
          `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${m.uid}`,
        );
      }
      if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== m.resourceVersion) {
        throw errors.conflict(
          this.info.resource,
          this.info.group,
          name,
          `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion}`,
        );
      }
      const requested = opts.gracePeriodSeconds;
      const grace = this.info.strategy?.deletionGracePeriod?.(current, requested) ?? 0;
      const addFinalizer = gcFinalizer !== undefined && !(m.finalizers ?? []).includes(gcFinalizer);
      const hasFinalizers = (m.finalizers ?? []).length > 0 || addFinalizer || (this.info.strategy?.pendingFinalizers?.(current) ?? false);
      try {
        if (opts.dryRun) return { obj: current, gone: grace === 0 && !hasFinalizers };
        if (grace === 0 && !hasFinalizers) {
          return { obj: await this.#remove(current, Number(m.resourceVersion)), gone: true };
        }
        // graceful: set (or shorten) the deletion timestamp and grace period
        const next = structuredClone(current);
        if (addFinalizer) next.metadata.finalizers = [...(m.finalizers ?? []), gcFinalizer];
        this.info.strategy?.prepareForDelete?.(next);
        const already = m.deletionTimestamp !== undefined;
        if (already && !addFinalizer && (m.deletionGracePeriodSeconds ?? 0) <= grace) return { obj: current, gone: false };
        next.metadata.deletionTimestamp = already && grace > 0 ? (m.deletionTimestamp as string) : rfc3339(new Date(Date.now() + grace * 1000));
        next.metadata.deletionGracePeriodSeconds = grace;
        if (next.metadata.generation !== undefined) next.metadata.generation += 1;
        const kv = await this.#storage.update(this.keyOf(m.namespace, name), this.#encode(next), Number(m.resourceVersion));
        return { obj: this.#decode(kv), gone: false };
      } catch (err) {
        if (err instanceof StorageError && err.code === 'Conflict' && attempt < 5) continue;
        this.#fromStorage(err, name);
      }
    }
  }

  /**
   * Streams changes after `fromRevision` as watch events filtered by the
   * options; an object that stops (starts) matching is DELETED (ADDED).
   * Emitted objects are shared between watchers: not to be changed.
   * `onEnded` hears (a 410) when storage ends the watch by itself.
   */
  async watch(fromRevision: number, opts: ListOptions, emit: (e: WatchOutput) => void, onEnded?: (err: ApiError) => void): Promise<RegistryWatch> {
    const prefix = this.#listPrefix(opts.namespace);
    const ended = (err: StorageError) => onEnded?.(errors.gone(err.message));
    const toWatchEvents = (e: StorageEvent) => {
      const obj = this.#decodeShared(e.kv);
      const prev = e.prev ? this.#decodeShared(e.prev) : undefined;
      const nowMatches = this.matches(obj, opts);
      const prevMatches = prev ? this.matches(prev, opts) : false;
      if (e.type === 'delete') {
        if (nowMatches) emit({ type: 'DELETED', object: obj });
      } else if (e.created || !prev) {
        if (nowMatches) emit({ type: 'ADDED', object: obj });
      } else if (nowMatches && prevMatches) emit({ type: 'MODIFIED', object: obj });
      else if (nowMatches) emit({ type: 'ADDED', object: obj });
      else if (prevMatches) emit({ type: 'DELETED', object: obj });
    };
    // on etcd, watchers share the cache's one storage watch when its window of events reaches back far enough
    const cache = this.#cache;
    const shared = this.#storage.watchIsSynchronous ? undefined : cache?.watch(prefix, fromRevision, toWatchEvents, ended);
    if (shared && cache) return { stop: shared, progress: async () => cache.revision };
    try {
      const stop = await this.#storage.watch(prefix, fromRevision, toWatchEvents, ended);
      // a store whose watchers hear of each write before it returns has told them all up to its revision
      return { stop, progress: async () => (this.#storage.watchIsSynchronous ? this.#storage.currentRevision() : 0) };
    } catch (err) {
      this.#fromStorage(err, '');
    }
  }
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5-character suffix Kubernetes appends to generateName. */
export function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += ALPHANUMS[Math.floor(Math.random() * ALPHANUMS.length)];
  return s;
}
