import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { defineController, objectKey, primary, watch, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import { ANN, NO_PROVISIONER, claimClass, findMatchingVolume } from '../volumes/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, STORAGE_CLASSES } from './shared-informers.ts';

const EXTERNAL_PROVISIONING = (p: string) =>
  `Waiting for a volume to be created either by the external provisioner '${p}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`;

/**
 * kube-controller-manager's persistentvolume-controller: binds claims to
 * volumes (pre-bound first, else the smallest that fits), hands claims of a
 * provisioning class to their provisioner (through the storage-provisioner
 * annotation; WaitForFirstConsumer claims once the scheduler picked a node),
 * keeps both phases true (Pending/Available/Bound/Released/Lost), and
 * releases a volume whose claim is gone — deleting it is the provisioner's
 * job under the Delete policy, Retain keeps it Released.
 */
export class PersistentVolumeController implements Controller {
  readonly name = 'persistentvolume-binder';
  #ctx: ControllerContext;
  #claimLoop: RunnableController;
  #volumeLoop: RunnableController;
  #claims: Informer<PersistentVolumeClaim>;
  #volumes: Informer<PersistentVolume>;
  #classes: Informer<StorageClass>;
  /** the last waiting reason reported per claim, so a claim's event is not repeated on every sync */
  #reported = new Map<string, string>();

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#claims = ctx.informers.for<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS);
    this.#volumes = ctx.informers.for<PersistentVolume>(PERSISTENT_VOLUMES);
    this.#classes = ctx.informers.for<StorageClass>(STORAGE_CLASSES);
    const backoff = { baseDelayMs: 100, maxDelayMs: 30_000 };
    // claims: a volume that names one, or became free (what a waiting claim may need); a new class (its pending claims)
    const claimsOfVolume = (v: PersistentVolume) => {
      const ref = v.spec?.claimRef;
      if (ref?.name) return `${ref.namespace}/${ref.name}`;
      return this.#claims
        .list()
        .filter((c) => !c.spec?.volumeName)
        .map(objectKey);
    };
    const pendingClaims = () =>
      this.#claims
        .list()
        .filter((c) => c.status?.phase === 'Pending')
        .map(objectKey);
    this.#claimLoop = defineController({
      name: `${this.name}/claims`,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      backoff,
      watches: [primary(this.#claims, ['add', 'update']), watch(this.#volumes, claimsOfVolume), watch(this.#classes, pendingClaims, ['add'])],
      reconcile: (key) => this.syncClaim(key),
    });
    const volumeOfClaim = (c: PersistentVolumeClaim) => c.spec?.volumeName;
    const claimGone = (c: PersistentVolumeClaim) => {
      this.#reported.delete(c.metadata?.uid ?? '');
      return c.spec?.volumeName;
    };
    this.#volumeLoop = defineController({
      name: `${this.name}/volumes`,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      workers: 2,
      backoff,
      watches: [primary(this.#volumes), watch(this.#claims, volumeOfClaim, ['add', 'update']), watch(this.#claims, claimGone, ['delete'])],
      reconcile: (name) => this.syncVolume(name),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#claimLoop.run(signal), this.#volumeLoop.run(signal)]);
  }

  #report(c: PersistentVolumeClaim, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const uid = c.metadata?.uid ?? '';
    if (this.#reported.get(uid) === `${reason}/${message}`) return;
    this.#reported.set(uid, `${reason}/${message}`);
    this.#ctx.events.event({ ...c, apiVersion: 'v1', kind: 'PersistentVolumeClaim' }, type, reason, message);
  }

  async syncClaim(key: string): Promise<void> {
    const claim = this.#claims.get(key);
    if (!claim || claim.metadata?.deletionTimestamp) return;
    const volumeName = claim.spec?.volumeName;
    if (!volumeName) return this.#bindOrProvision(claim);
    const pv = this.#volumes.get(volumeName);
    if (!pv) {
      if (claim.status?.phase === 'Bound') {
        await this.#claimStatus(claim, 'Lost');
        this.#report(claim, 'Warning', 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      }
      return;
    }
    const ref = pv.spec?.claimRef;
    if (!ref) return this.#bind(pv, claim);
    if (ref.uid === claim.metadata?.uid || (!ref.uid && ref.name === claim.metadata?.name && ref.namespace === claim.metadata?.namespace)) {
      if (!ref.uid) return this.#bind(pv, claim);
      return this.#completeClaim(claim, pv);
    }
    this.#report(claim, 'Warning', 'FailedBinding', `volume "${volumeName}" already bound to a different claim.`);
  }

  async #bindOrProvision(claim: PersistentVolumeClaim): Promise<void> {
    const pv = findMatchingVolume(claim, this.#volumes.list());
    const className = claimClass(claim);
    const cls = className ? this.#classes.get(className) : undefined;
    const waitsForConsumer = cls?.volumeBindingMode === 'WaitForFirstConsumer';
    // a free volume of a WaitForFirstConsumer class is the scheduler's to pick, for the node the pod lands on
    if (pv && (!waitsForConsumer || pv.spec?.claimRef)) return this.#bind(pv, claim);
    if (!className) {
      this.#report(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (!cls) {
      this.#report(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      return;
    }
    if (waitsForConsumer && !claim.metadata?.annotations?.[ANN.selectedNode]) {
      this.#report(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return;
    }
    if (cls.provisioner === NO_PROVISIONER) {
      this.#report(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (claim.metadata?.annotations?.[ANN.storageProvisioner] !== cls.provisioner) {
      await this.#ctx.client.patch(
        { ...PERSISTENT_VOLUME_CLAIMS, namespace: claim.metadata?.namespace, name: claim.metadata?.name },
        {
          metadata: {
            resourceVersion: claim.metadata?.resourceVersion,
            annotations: { [ANN.storageProvisioner]: cls.provisioner, [ANN.betaStorageProvisioner]: cls.provisioner },
          },
        },
        'merge',
      );
    }
    this.#report(claim, 'Normal', 'ExternalProvisioning', EXTERNAL_PROVISIONING(cls.provisioner));
  }

  /** Points the volume at the claim, then the claim at the volume; each step is picked up again after a conflict. */
  async #bind(pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const ref = {
      kind: 'PersistentVolumeClaim',
      apiVersion: 'v1',
      namespace: claim.metadata?.namespace,
      name: claim.metadata?.name,
      uid: claim.metadata?.uid,
      resourceVersion: claim.metadata?.resourceVersion,
    };
    let bound = pv;
    if (pv.spec?.claimRef?.uid !== claim.metadata?.uid) {
      const annotations = { ...pv.metadata?.annotations, ...(pv.spec?.claimRef ? {} : { [ANN.boundByController]: 'yes' }) };
      bound = await this.#ctx.client.update<PersistentVolume>(
        { ...PERSISTENT_VOLUMES, name: pv.metadata?.name },
        { ...pv, metadata: { ...pv.metadata, annotations }, spec: { ...pv.spec, claimRef: ref } },
      );
    }
    if (bound.status?.phase !== 'Bound') bound = await this.#volumeStatus(bound, 'Bound');
    await this.#completeClaim(claim, bound);
    this.#ctx.log.info({ claim: objectKey(claim), volume: pv.metadata?.name }, 'claim bound');
  }

  async #completeClaim(claim: PersistentVolumeClaim, pv: PersistentVolume): Promise<void> {
    const name = pv.metadata?.name ?? '';
    const ref = { ...PERSISTENT_VOLUME_CLAIMS, namespace: claim.metadata?.namespace, name: claim.metadata?.name };
    let current = claim;
    if (claim.spec?.volumeName !== name || claim.metadata?.annotations?.[ANN.bindCompleted] !== 'yes') {
      const annotations = { ...claim.metadata?.annotations, [ANN.bindCompleted]: 'yes', ...(claim.spec?.volumeName ? {} : { [ANN.boundByController]: 'yes' }) };
      current = await this.#ctx.client.update<PersistentVolumeClaim>(ref, {
        ...claim,
        metadata: { ...claim.metadata, annotations },
        spec: { ...claim.spec, volumeName: name },
      });
    }
    if (pv.status?.phase !== 'Bound') await this.#volumeStatus(pv, 'Bound');
    const status = current.status ?? {};
    const capacity = status.phase === 'Bound' && status.capacity ? status.capacity : pv.spec?.capacity;
    if (status.phase !== 'Bound' || !status.capacity || JSON.stringify(status.accessModes) !== JSON.stringify(pv.spec?.accessModes)) {
      await this.#ctx.client.update(
        { ...ref, subresource: 'status' },
        { ...current, status: { ...status, phase: 'Bound', accessModes: pv.spec?.accessModes, capacity } },
      );
    }
  }

  async #claimStatus(claim: PersistentVolumeClaim, phase: string): Promise<void> {
    await this.#ctx.client.update(
      { ...PERSISTENT_VOLUME_CLAIMS, namespace: claim.metadata?.namespace, name: claim.metadata?.name, subresource: 'status' },
      { ...claim, status: { ...claim.status, phase } },
    );
  }

  async #volumeStatus(pv: PersistentVolume, phase: string, message?: string): Promise<PersistentVolume> {
    return this.#ctx.client.update<PersistentVolume>(
      { ...PERSISTENT_VOLUMES, name: pv.metadata?.name, subresource: 'status' },
      { ...pv, status: { ...pv.status, phase, ...(message ? { message } : {}), lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } },
    );
  }

  async syncVolume(name: string): Promise<void> {
    const pv = this.#volumes.get(name);
    if (!pv) return;
    const ref = pv.spec?.claimRef;
    const phase = pv.status?.phase;
    if (!ref?.uid) {
      // free, or pre-bound to a claim by name only (the claim's sync completes it)
      if (phase !== 'Available' && !(ref && phase === 'Bound')) await this.#volumeStatus(pv, 'Available');
      return;
    }
    const claim = this.#claims.get(`${ref.namespace}/${ref.name}`);
    if (claim && claim.metadata?.uid === ref.uid) {
      if (!claim.spec?.volumeName) this.#claimLoop.enqueue(objectKey(claim));
      if (phase !== 'Bound') await this.#volumeStatus(pv, 'Bound');
      return;
    }
    // the claim is gone: the volume is released to its reclaim policy
    if (phase === 'Released' || phase === 'Failed') return;
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Recycle') {
      await this.#volumeStatus(pv, 'Failed', 'Recycle is not supported; use Delete or Retain');
      return;
    }
    if (policy === 'Delete' && !pv.metadata?.annotations?.[ANN.provisionedBy]) {
      await this.#volumeStatus(pv, 'Failed', `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched`);
      return;
    }
    await this.#volumeStatus(pv, 'Released');
    this.#ctx.log.info({ volume: name, policy }, 'volume released');
  }
}
