import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { WorkQueue, isPodTerminal, objectKey, type Informer } from '../../apimachinery/index.ts';
import { PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER } from '../volumes/index.ts';
import { runSyncLoop, type Controller, type ControllerContext } from './context.ts';
import { PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, PODS } from './shared-informers.ts';

/** Whether a pod that has not finished still uses the claim. */
function usesClaim(pod: Pod, claimName: string): boolean {
  return !isPodTerminal(pod) && (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName);
}

/**
 * The pvc-protection and pv-protection controllers: a claim being deleted
 * keeps its finalizer while a pod that has not finished uses it; a volume
 * being deleted keeps its finalizer while it is Bound. Then the finalizer
 * goes and the deletion completes.
 */
export class VolumeProtectionController implements Controller {
  readonly name = 'volume-protection';
  #ctx: ControllerContext;
  #queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 30_000 });
  #claims: Informer<PersistentVolumeClaim>;
  #volumes: Informer<PersistentVolume>;
  #pods: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#claims = ctx.informers.for<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS);
    this.#volumes = ctx.informers.for<PersistentVolume>(PERSISTENT_VOLUMES);
    this.#pods = ctx.informers.for<Pod>(PODS);
    const claim = (c: PersistentVolumeClaim) => c.metadata?.deletionTimestamp && this.#queue.add(`pvc/${objectKey(c)}`);
    const volume = (v: PersistentVolume) => v.metadata?.deletionTimestamp && this.#queue.add(`pv/${v.metadata.name}`);
    this.#claims.addHandlers({ onAdd: claim, onUpdate: (_o, c) => claim(c) });
    this.#volumes.addHandlers({ onAdd: volume, onUpdate: (_o, v) => volume(v) });
    // a pod that finished or went away may have been what held a claim
    const pod = (p: Pod) => {
      for (const v of p.spec?.volumes ?? []) {
        const c = v.persistentVolumeClaim && this.#claims.get(`${p.metadata?.namespace}/${v.persistentVolumeClaim.claimName}`);
        if (c) claim(c);
      }
    };
    this.#pods.addHandlers({ onUpdate: (_o, p) => pod(p), onDelete: pod });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#claims.hasSynced(), this.#volumes.hasSynced(), this.#pods.hasSynced()]);
    await runSyncLoop(this.#queue, 2, (key) => this.sync(key), this.#ctx.log, signal);
  }

  async sync(key: string): Promise<void> {
    const [kind, rest] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    if (kind === 'pvc') {
      const c = this.#claims.get(rest);
      if (!c?.metadata?.deletionTimestamp || !c.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)) return;
      const ns = c.metadata.namespace;
      if (this.#pods.list().some((p) => p.metadata?.namespace === ns && usesClaim(p, c.metadata?.name ?? ''))) return;
      await this.#drop({ ...PERSISTENT_VOLUME_CLAIMS, namespace: ns, name: c.metadata.name }, c, PVC_PROTECTION_FINALIZER);
      return;
    }
    const v = this.#volumes.get(rest);
    if (!v?.metadata?.deletionTimestamp || !v.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER)) return;
    if (v.status?.phase === 'Bound') return;
    await this.#drop({ ...PERSISTENT_VOLUMES, name: v.metadata.name }, v, PV_PROTECTION_FINALIZER);
  }

  async #drop(ref: { resource: string; namespace?: string; name?: string }, obj: PersistentVolumeClaim | PersistentVolume, finalizer: string): Promise<void> {
    const finalizers = (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
    await this.#ctx.client.patch(ref, { metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers } }, 'merge');
    this.#ctx.log.info({ object: obj.metadata?.name, finalizer }, 'protection finalizer removed');
  }
}
