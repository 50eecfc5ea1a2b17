import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { ApiError, WorkQueue, objectKey, type KubeObject } from '../../apimachinery/index.ts';
import { runSyncLoop, type Controller, type ControllerContext } from './context.ts';
import { DEPLOYMENTS, JOBS, PODS, REPLICA_SETS, type ResourceType } from './shared-informers.ts';

interface Owned extends KubeObject {
  metadata?: KubeObject['metadata'] & { ownerReferences?: OwnerReference[]; deletionTimestamp?: string };
}

/** Owner kinds the collector can look up, by `apiVersion/kind`. */
const OWNER_KINDS: Record<string, ResourceType> = {
  'apps/v1/Deployment': DEPLOYMENTS,
  'apps/v1/ReplicaSet': REPLICA_SETS,
  'batch/v1/Job': JOBS,
};

/** Resources whose objects the collector deletes when their owners are gone. */
const DEPENDENT_TYPES: ResourceType[] = [PODS, REPLICA_SETS];

const typeKey = (t: ResourceType) => `${t.group ?? ''}/${t.resource}`;

/**
 * Deletes objects whose owners are all gone (background propagation): when an
 * owner is deleted its dependents are queued, and every dependent is checked
 * once at start. An owner is only taken as gone after a live read says so,
 * since the owner's informer may simply not have seen it yet. References to
 * owners that are gone are dropped from dependents that keep another owner.
 */
export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  #ctx: ControllerContext;
  #queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 60_000 });

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    for (const type of DEPENDENT_TYPES) {
      const enqueue = (o: Owned) => {
        if (o.metadata?.ownerReferences?.length) this.#queue.add(`${typeKey(type)}|${objectKey(o)}`);
      };
      ctx.informers.for<Owned>(type).addHandlers({ onAdd: enqueue, onUpdate: (_old, o) => enqueue(o) });
    }
    for (const ownerType of Object.values(OWNER_KINDS)) {
      ctx.informers.for<Owned>(ownerType).addHandlers({
        onDelete: (owner) => {
          for (const type of DEPENDENT_TYPES) {
            for (const dep of ctx.informers.ownerIndex<Owned>(type).dependents(owner.metadata?.uid)) this.#queue.add(`${typeKey(type)}|${objectKey(dep)}`);
          }
        },
      });
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([...DEPENDENT_TYPES, ...Object.values(OWNER_KINDS)].map((t) => this.#ctx.informers.for(t).hasSynced()));
    await runSyncLoop(this.#queue, 2, (key) => this.#collect(key), this.#ctx.log, signal);
  }

  async #collect(key: string): Promise<void> {
    const [tk, objKey] = key.split('|') as [string, string];
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
    const ref = { ...type, version: type.version ?? 'v1', namespace, name: obj.metadata?.name };
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
