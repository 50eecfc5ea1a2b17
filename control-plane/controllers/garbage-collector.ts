import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { ApiError, defineController, objectKey, watch, type KubeObject, type RunnableController, type WatchSpec } from '../../apimachinery/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import {
  CONTROLLER_REVISIONS,
  CRON_JOBS,
  DAEMON_SETS,
  DEPLOYMENTS,
  JOBS,
  PODS,
  REPLICA_SETS,
  REPLICATION_CONTROLLERS,
  STATEFUL_SETS,
  type ResourceType,
} from './shared-informers.ts';

interface Owned extends KubeObject {
  metadata?: KubeObject['metadata'] & { ownerReferences?: OwnerReference[]; deletionTimestamp?: string; finalizers?: string[] };
}

/** Owner kinds the collector can look up, by `apiVersion/kind`: the resources the API catalog marks with garbageCollection. */
const OWNER_KINDS: Record<string, ResourceType> = {
  'apps/v1/Deployment': DEPLOYMENTS,
  'apps/v1/ReplicaSet': REPLICA_SETS,
  'batch/v1/Job': JOBS,
  'batch/v1/CronJob': CRON_JOBS,
  'apps/v1/DaemonSet': DAEMON_SETS,
  'apps/v1/StatefulSet': STATEFUL_SETS,
  'v1/ReplicationController': REPLICATION_CONTROLLERS,
};

/** Resources whose objects the collector deletes when their owners are gone. */
const DEPENDENT_TYPES: ResourceType[] = [PODS, REPLICA_SETS, JOBS, CONTROLLER_REVISIONS];

const typeKey = (t: ResourceType) => `${t.group ?? ''}/${t.resource}`;

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';

/**
 * Deletes objects whose owners are all gone (background propagation): when an
 * owner is deleted its dependents are queued, and every dependent is checked
 * once at start. An owner is only taken as gone after a live read says so,
 * since the owner's informer may simply not have seen it yet. References to
 * owners that are gone are dropped from dependents that keep another owner.
 * Owners deleted with the `orphan` finalizer have their references removed
 * from their dependents; owners with `foregroundDeletion` stay until their
 * dependents are deleted. Either way the finalizer is then removed.
 */
export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  #ctx: ControllerContext;
  #loop: RunnableController;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    const watches: WatchSpec[] = [];
    for (const type of DEPENDENT_TYPES) {
      const informer = ctx.informers.for<Owned>(type);
      watches.push(watch(informer, (o) => !!o.metadata?.ownerReferences?.length && `dependent|${typeKey(type)}|${objectKey(o)}`, ['add', 'update']));
      // an owner deleted in the foreground waits for its dependents to go
      const ownersOf = (o: Owned) =>
        (o.metadata?.ownerReferences ?? []).flatMap((ref) => {
          const ownerType = OWNER_KINDS[`${ref.apiVersion}/${ref.kind}`];
          return ownerType ? [`owner|${typeKey(ownerType)}|${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${ref.name}`] : [];
        });
      watches.push(watch(informer, ownersOf, ['delete']));
    }
    for (const ownerType of Object.values(OWNER_KINDS)) {
      const informer = ctx.informers.for<Owned>(ownerType);
      const finalizing = (o: Owned) =>
        !!o.metadata?.deletionTimestamp &&
        !!o.metadata.finalizers?.some((f) => f === ORPHAN || f === FOREGROUND) &&
        `owner|${typeKey(ownerType)}|${objectKey(o)}`;
      watches.push(watch(informer, finalizing, ['add', 'update']));
      watches.push(watch(informer, (owner) => this.#dependentsOf(owner).map((dep) => `dependent|${typeKey(dep.type)}|${objectKey(dep.obj)}`), ['delete']));
    }
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      backoff: { baseDelayMs: 100, maxDelayMs: 60_000 },
      watches,
      reconcile: (key) => (key.startsWith('owner|') ? this.#finalize(key) : this.#collect(key)),
    });
  }

  #dependentsOf(owner: Owned): { type: ResourceType; obj: Owned }[] {
    return DEPENDENT_TYPES.flatMap((type) =>
      this.#ctx.informers
        .ownerIndex<Owned>(type)
        .dependents(owner.metadata?.uid)
        .map((obj) => ({ type, obj })),
    );
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  /** Carries out orphan or foreground deletion of an owner that carries the finalizer asking for it. */
  async #finalize(key: string): Promise<void> {
    const [, tk, objKey] = key.split('|') as [string, string, string];
    const type = Object.values(OWNER_KINDS).find((t) => typeKey(t) === tk) as ResourceType;
    const owner = this.#ctx.informers.for<Owned>(type).get(objKey);
    const finalizers = owner?.metadata?.finalizers ?? [];
    if (!owner?.metadata?.deletionTimestamp) return;
    const dependents = this.#dependentsOf(owner);
    if (finalizers.includes(ORPHAN)) {
      for (const { type: depType, obj } of dependents) {
        const left = (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata?.uid);
        await this.#ignoringGone(this.#ctx.client.patch(this.#ref(depType, obj), { metadata: { ownerReferences: left.length ? left : null } }, 'merge'));
      }
      await this.#removeFinalizer(type, owner, ORPHAN);
    } else if (finalizers.includes(FOREGROUND)) {
      if (dependents.length > 0) {
        for (const { type: depType, obj } of dependents) {
          if (!obj.metadata?.deletionTimestamp)
            await this.#ignoringGone(
              this.#ctx.client.delete(this.#ref(depType, obj), { preconditions: { uid: obj.metadata?.uid }, propagationPolicy: 'Foreground' }),
            );
        }
        return;
      }
      await this.#removeFinalizer(type, owner, FOREGROUND);
    }
  }

  #ref(type: ResourceType, obj: Owned) {
    return { ...type, version: type.version ?? 'v1', namespace: obj.metadata?.namespace, name: obj.metadata?.name };
  }

  async #ignoringGone(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  /** Drops one finalizer with an update at the live resourceVersion; a conflict retries the key. */
  async #removeFinalizer(type: ResourceType, owner: Owned, finalizer: string): Promise<void> {
    const live = await this.#ctx.client.get<Owned & { metadata: { finalizers?: string[] } }>(this.#ref(type, owner));
    if (live.metadata.uid !== owner.metadata?.uid || !live.metadata.finalizers?.includes(finalizer)) return;
    live.metadata.finalizers = live.metadata.finalizers.filter((f) => f !== finalizer);
    await this.#ignoringGone(this.#ctx.client.update(this.#ref(type, owner), live));
  }

  async #collect(key: string): Promise<void> {
    const [, tk, objKey] = key.split('|') as [string, string, string];
    const type = DEPENDENT_TYPES.find((t) => typeKey(t) === tk) as ResourceType;
    const obj = this.#ctx.informers.for<Owned>(type).get(objKey);
    const refs = obj?.metadata?.ownerReferences ?? [];
    if (!obj || refs.length === 0 || obj.metadata?.deletionTimestamp) return;
    const namespace = obj.metadata?.namespace;
    const gone: OwnerReference[] = [];
    for (const ref of refs) {
      if (await this.#ownerGone(ref, namespace)) gone.push(ref);
    }
    if (gone.length === 0) return;
    const ref = this.#ref(type, obj);
    try {
      if (gone.length === refs.length) {
        this.#ctx.log.info({ object: key, owners: gone.map((r) => `${r.kind}/${r.name}`) }, 'deleting object whose owners are gone');
        await this.#ctx.client.delete(ref, { preconditions: { uid: obj.metadata?.uid }, propagationPolicy: 'Background' });
      } else {
        const left = refs.filter((r) => !gone.includes(r));
        await this.#ctx.client.patch(ref, { metadata: { ownerReferences: left } }, 'merge');
      }
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }

  /** True when a live read finds no owner with the reference's uid. Owners of kinds we do not know count as present. */
  async #ownerGone(ref: OwnerReference, namespace: string | undefined): Promise<boolean> {
    const type = OWNER_KINDS[`${ref.apiVersion}/${ref.kind}`];
    if (!type) return false;
    const cached = this.#ctx.informers.for<Owned>(type).get(namespace ? `${namespace}/${ref.name}` : ref.name);
    if (cached?.metadata?.uid === ref.uid) return false;
    try {
      const live = await this.#ctx.client.get<Owned>({ ...type, version: type.version ?? 'v1', namespace, name: ref.name });
      return live.metadata?.uid !== ref.uid;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return true;
      throw err;
    }
  }
}
