import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { defineController, isPodTerminal, objectKey, watch, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import { PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER } from '../volumes/index.ts';
import type { Controller, ControllerContext } from './context.ts';
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
  #loop: RunnableController;
  #claims: Informer<PersistentVolumeClaim>;
  #volumes: Informer<PersistentVolume>;
  #pods: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#claims = ctx.informers.for<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS);
    this.#volumes = ctx.informers.for<PersistentVolume>(PERSISTENT_VOLUMES);
    this.#pods = ctx.informers.for<Pod>(PODS);
    const claimKey = (c: PersistentVolumeClaim | undefined) => c?.metadata?.deletionTimestamp && `pvc/${objectKey(c)}`;
    // a pod that finished or went away may have been what held a claim
    const claimsOfPod = (p: Pod) =>
      (p.spec?.volumes ?? [])
        .map((v) => v.persistentVolumeClaim && claimKey(this.#claims.get(`${p.metadata?.namespace}/${v.persistentVolumeClaim.claimName}`)))
        .filter((k): k is string => !!k);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      backoff: { baseDelayMs: 100, maxDelayMs: 30_000 },
      watches: [
        watch(this.#claims, claimKey, ['add', 'update']),
        watch(this.#volumes, (v) => v.metadata?.deletionTimestamp && `pv/${v.metadata.name}`, ['add', 'update']),
        watch(this.#pods, claimsOfPod, ['update', 'delete']),
      ],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
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
