import type { PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimCondition } from 'kubernetes-types/core/v1.js';
import { status as grpcStatus } from '@grpc/grpc-js';
import {
  defineController,
  reads,
  watch,
  type RunnableController,
  formatQuantity,
  mountAt,
  objectKey,
  rfc3339,
  type EventRecorder,
  type Informer,
  type Logger,
  type RestClient,
} from '../../apimachinery/index.ts';
import { CsiError } from '../../csi/index.ts';
import { csiStagingPath } from './csi-volumes.ts';
import type { CsiPlugin, PluginRegistry } from './plugins.ts';
import { storageBytes, volumeOnNode } from './topology.ts';

export const FS_RESIZE_PENDING = 'FileSystemResizePending';

/**
 * Volume expansion for volumes that live on this node: the external-resizer
 * part (a bound claim asking for more than its volume has → ControllerExpandVolume,
 * the PV's capacity follows, FileSystemResizePending when the node must
 * finish) and the kubelet part (NodeExpandVolume where the volume is staged,
 * then the claim's capacity follows and the condition goes).
 */
export class NodeResizer {
  #client: RestClient;
  #plugins: PluginRegistry;
  #events: EventRecorder;
  #log: Logger;
  #rootDir: string;
  #claims: Informer<PersistentVolumeClaim>;
  #volumes: Informer<PersistentVolume>;
  #loop: RunnableController;

  constructor(o: {
    client: RestClient;
    plugins: PluginRegistry;
    events: EventRecorder;
    log: Logger;
    rootDir: string;
    claims: Informer<PersistentVolumeClaim>;
    volumes: Informer<PersistentVolume>;
  }) {
    this.#client = o.client;
    this.#plugins = o.plugins;
    this.#events = o.events;
    this.#log = o.log;
    this.#rootDir = o.rootDir;
    this.#claims = o.claims;
    this.#volumes = o.volumes;
    this.#loop = defineController({
      name: 'csi-resizer',
      log: this.#log,
      backoff: { baseDelayMs: 1000, maxDelayMs: 300_000 },
      watches: [watch(this.#claims, (c) => !!c.spec?.volumeName && objectKey(c), ['add', 'update']), reads(this.#volumes)],
      reconcile: async (key) => {
        try {
          await this.#sync(key);
        } catch (err) {
          // a file system that can only grow at its next stage is not retried until then
          if (err instanceof CsiError && err.code === grpcStatus.FAILED_PRECONDITION) return;
          throw err;
        }
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  #pluginFor(pv: PersistentVolume): CsiPlugin | undefined {
    const plugin = this.#plugins.get(pv.spec?.csi?.driver ?? '');
    return plugin && volumeOnNode(pv, plugin) ? plugin : undefined;
  }

  async #sync(key: string): Promise<void> {
    const claim = this.#claims.get(key);
    const pv = claim?.spec?.volumeName ? this.#volumes.get(claim.spec.volumeName) : undefined;
    if (!claim || !pv || claim.status?.phase !== 'Bound') return;
    const plugin = this.#pluginFor(pv);
    if (!plugin) return;
    const want = storageBytes(claim.spec?.resources?.requests?.storage);
    const have = storageBytes(pv.spec?.capacity?.storage);
    if (want > have) return this.#expandController(claim, pv, plugin, want);
    if (claim.status?.conditions?.some((c) => c.type === FS_RESIZE_PENDING)) await this.expandOnNode(claim, pv);
  }

  async #expandController(claim: PersistentVolumeClaim, pv: PersistentVolume, plugin: CsiPlugin, want: number): Promise<void> {
    const involved = { ...claim, apiVersion: 'v1', kind: 'PersistentVolumeClaim' };
    const handle = pv.spec?.csi?.volumeHandle ?? '';
    let capacity = want;
    let nodeExpansion = plugin.nodeCapabilities.has('EXPAND_VOLUME');
    if (plugin.controllerCapabilities.has('EXPAND_VOLUME')) {
      this.#events.event(involved, 'Normal', 'Resizing', `External resizer is resizing volume ${pv.metadata?.name}`);
      try {
        const res = await plugin.client.controllerExpandVolume(handle, { requiredBytes: want });
        capacity = res.capacityBytes;
        nodeExpansion = res.nodeExpansionRequired;
      } catch (err) {
        this.#events.event(
          involved,
          'Warning',
          'VolumeResizeFailed',
          `resize volume "${pv.metadata?.name}" by resizer "${plugin.name}" failed: ${(err as Error).message}`,
        );
        throw err;
      }
    }
    await this.#client.patch(
      { resource: 'persistentvolumes', name: pv.metadata?.name },
      { spec: { capacity: { storage: formatQuantity(capacity, 'BinarySI') } } },
      'merge',
    );
    if (nodeExpansion) {
      const condition: PersistentVolumeClaimCondition = {
        type: FS_RESIZE_PENDING,
        status: 'True',
        message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.',
        lastTransitionTime: rfc3339(),
        lastProbeTime: null as unknown as string,
      };
      await this.#claimStatus(claim, { conditions: [...(claim.status?.conditions ?? []).filter((c) => c.type !== FS_RESIZE_PENDING), condition] });
      this.#events.event(involved, 'Normal', 'FileSystemResizeRequired', 'Require file system resize of volume on node');
      // a volume staged here grows now
      await this.expandOnNode(
        { ...claim, status: { ...claim.status, conditions: [condition] } },
        { ...pv, spec: { ...pv.spec, capacity: { storage: formatQuantity(capacity, 'BinarySI') } } },
      ).catch((err: Error) => this.#log.info({ volume: pv.metadata?.name, err: err.message }, 'file system resize waits for the next stage'));
    } else {
      await this.#claimStatus(claim, { capacity: { ...claim.status?.capacity, storage: formatQuantity(capacity, 'BinarySI') } });
      this.#events.event(involved, 'Normal', 'VolumeResizeSuccessful', 'Resize volume succeeded');
    }
  }

  /** The kubelet's part: grows the staged file system and records the claim's new capacity. Nothing to do when the volume is not staged here. */
  async expandOnNode(claim: PersistentVolumeClaim, pv: PersistentVolume): Promise<void> {
    if (!claim.status?.conditions?.some((c) => c.type === FS_RESIZE_PENDING)) return;
    const plugin = this.#pluginFor(pv);
    const csi = pv.spec?.csi;
    if (!plugin || !csi || !plugin.nodeCapabilities.has('EXPAND_VOLUME')) return;
    const staging = csiStagingPath(this.#rootDir, csi.driver, csi.volumeHandle);
    if (!(await mountAt(staging))) return;
    const involved = { ...claim, apiVersion: 'v1', kind: 'PersistentVolumeClaim' };
    try {
      await plugin.client.nodeExpandVolume({
        volumeId: csi.volumeHandle,
        volumePath: staging,
        stagingTargetPath: staging,
        capacityRange: { requiredBytes: storageBytes(pv.spec?.capacity?.storage) },
      });
    } catch (err) {
      this.#events.event(
        involved,
        'Warning',
        'FileSystemResizeFailed',
        `MountVolume.NodeExpandVolume failed for volume "${pv.metadata?.name}" : ${(err as Error).message}`,
      );
      throw err;
    }
    const conditions = (claim.status?.conditions ?? []).filter((c) => c.type !== FS_RESIZE_PENDING);
    await this.#claimStatus(claim, {
      capacity: { ...claim.status?.capacity, storage: pv.spec?.capacity?.storage as string },
      conditions: conditions.length ? conditions : null,
    });
    this.#events.event(
      involved,
      'Normal',
      'FileSystemResizeSuccessful',
      `MountVolume.NodeExpandVolume succeeded for volume "${pv.metadata?.name}" ${plugin.nodeId}`,
    );
    this.#log.info({ claim: objectKey(claim), capacity: pv.spec?.capacity?.storage }, 'file system resized');
  }

  async #claimStatus(
    claim: PersistentVolumeClaim,
    status: { [K in keyof NonNullable<PersistentVolumeClaim['status']>]?: NonNullable<PersistentVolumeClaim['status']>[K] | null },
  ): Promise<void> {
    await this.#client.patch(
      { resource: 'persistentvolumeclaims', namespace: claim.metadata?.namespace, name: claim.metadata?.name, subresource: 'status' },
      { status },
      'merge',
    );
  }
}
