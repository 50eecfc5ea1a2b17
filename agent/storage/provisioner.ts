import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import {
  PROVISIONED_BY_ANNOTATION,
  STORAGE_PROVISIONER_ANNOTATION,
  SELECTED_NODE_ANNOTATION,
  ApiError,
  type Informer,
  defineController,
  reads,
  watch,
  type RunnableController,
  formatQuantity,
  objectKey,
  parseQuantity,
  type EventRecorder,
  type Logger,
  type RestClient,
} from '../../apimachinery/index.ts';
import type { CsiVolume, VolumeCapability } from '../../csi/index.ts';
import { csiAccessMode } from './csi-volumes.ts';
import type { CsiPlugin, PluginRegistry } from './plugins.ts';
import { volumeOnNode } from './topology.ts';

export const ANN_SELECTED_NODE = SELECTED_NODE_ANNOTATION;
export const ANN_STORAGE_PROVISIONER = STORAGE_PROVISIONER_ANNOTATION;
export const ANN_PROVISIONED_BY = PROVISIONED_BY_ANNOTATION;
/** StorageClass parameters with this prefix are for the provisioner, not the driver. */
const RESERVED_PARAMETER = 'csi.storage.k8s.io/';
const FSTYPE_PARAMETER = 'csi.storage.k8s.io/fstype';

/** The CreateVolume request for a claim of a class, on this node's topology. */
export function createVolumeRequest(claim: PersistentVolumeClaim, cls: StorageClass, plugin: CsiPlugin) {
  const params = cls.parameters ?? {};
  const fsType = params[FSTYPE_PARAMETER] ?? 'ext4';
  const capability: VolumeCapability = {
    mount: { fsType, mountFlags: cls.mountOptions ?? [] },
    accessMode: { mode: csiAccessMode(claim.spec?.accessModes, plugin) },
  };
  const requested = claim.spec?.resources?.requests?.storage;
  const limit = claim.spec?.resources?.limits?.storage;
  return {
    name: `pvc-${claim.metadata?.uid}`,
    capacityRange: { requiredBytes: requested ? parseQuantity(String(requested)) : 0, limitBytes: limit ? parseQuantity(String(limit)) : 0 },
    volumeCapabilities: [capability],
    parameters: Object.fromEntries(Object.entries(params).filter(([k]) => !k.startsWith(RESERVED_PARAMETER))),
    secrets: {},
    accessibilityRequirements: plugin.topology ? { requisite: [plugin.topology], preferred: [plugin.topology] } : null,
    fsType,
  };
}

/** The PersistentVolume for a volume the driver created for a claim: pre-bound to it, pinned to the volume's topology. */
export function provisionedVolume(claim: PersistentVolumeClaim, cls: StorageClass, plugin: CsiPlugin, v: CsiVolume, fsType: string): PersistentVolume {
  const terms = v.accessibleTopology.map((t) => ({
    matchExpressions: Object.entries(t.segments).map(([key, value]) => ({ key, operator: 'In', values: [value] })),
  }));
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: `pvc-${claim.metadata?.uid}`,
      annotations: {
        [ANN_PROVISIONED_BY]: plugin.name,
        'volume.kubernetes.io/provisioner-deletion-secret-name': '',
        'volume.kubernetes.io/provisioner-deletion-secret-namespace': '',
      },
    },
    spec: {
      accessModes: claim.spec?.accessModes,
      capacity: { storage: formatQuantity(v.capacityBytes, 'BinarySI') },
      claimRef: {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace: claim.metadata?.namespace,
        name: claim.metadata?.name,
        uid: claim.metadata?.uid,
        resourceVersion: claim.metadata?.resourceVersion,
      },
      persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
      storageClassName: cls.metadata?.name,
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      ...(cls.mountOptions?.length ? { mountOptions: cls.mountOptions } : {}),
      csi: {
        driver: plugin.name,
        volumeHandle: v.volumeId,
        fsType,
        volumeAttributes: { ...v.volumeContext, 'storage.kubernetes.io/csiProvisionerIdentity': `${plugin.name}-${plugin.nodeId}` },
      },
      ...(terms.length ? { nodeAffinity: { required: { nodeSelectorTerms: terms } } } : {}),
    },
  };
}

/**
 * The external-provisioner sidecar, run by the agent for the CSI drivers
 * registered on this node that create volumes (distributed provisioning, as
 * for node-local storage): claims handed to a driver are provisioned on the
 * node the scheduler picked (WaitForFirstConsumer) or on the node that takes
 * an Immediate claim first; Released volumes under the Delete policy that
 * live here are deleted, PV object included.
 */
export class NodeProvisioner {
  #client: RestClient;
  #nodeName: string;
  #plugins: PluginRegistry;
  #events: EventRecorder;
  #log: Logger;
  #claims: Informer<PersistentVolumeClaim>;
  #volumes: Informer<PersistentVolume>;
  #classes: Informer<StorageClass>;
  #loop: RunnableController;

  constructor(o: {
    client: RestClient;
    nodeName: string;
    plugins: PluginRegistry;
    events: EventRecorder;
    log: Logger;
    claims: Informer<PersistentVolumeClaim>;
    volumes: Informer<PersistentVolume>;
    classes: Informer<StorageClass>;
  }) {
    this.#client = o.client;
    this.#nodeName = o.nodeName;
    this.#plugins = o.plugins;
    this.#events = o.events;
    this.#log = o.log;
    this.#claims = o.claims;
    this.#volumes = o.volumes;
    this.#classes = o.classes;
    const claimKey = (c: PersistentVolumeClaim) => `claim/${objectKey(c)}`;
    const volumeKey = (v: PersistentVolume) => `volume/${v.metadata?.name}`;
    this.#loop = defineController({
      name: 'csi-provisioner',
      log: this.#log,
      workers: 2,
      backoff: { baseDelayMs: 1000, maxDelayMs: 300_000 },
      watches: [watch(this.#claims, claimKey, ['add', 'update']), watch(this.#volumes, volumeKey, ['add', 'update']), reads(this.#classes)],
      reconcile: (key) => (key.startsWith('claim/') ? this.#syncClaim(key.slice('claim/'.length)) : this.#syncVolume(key.slice('volume/'.length))),
    });
    // a driver that registers or goes changes what can be provisioned here
    this.#plugins.onChange(() => {
      for (const c of this.#claims.list()) this.#loop.enqueue(claimKey(c));
      for (const v of this.#volumes.list()) this.#loop.enqueue(volumeKey(v));
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  #provisioning(name: string | undefined): CsiPlugin | undefined {
    const plugin = name ? this.#plugins.get(name) : undefined;
    return plugin?.controllerCapabilities.has('CREATE_DELETE_VOLUME') ? plugin : undefined;
  }

  async #syncClaim(key: string): Promise<void> {
    const claim = this.#claims.get(key);
    if (!claim || claim.spec?.volumeName || claim.metadata?.deletionTimestamp) return;
    const annotations = claim.metadata?.annotations ?? {};
    const plugin = this.#provisioning(annotations[ANN_STORAGE_PROVISIONER]);
    if (!plugin) return;
    const cls = this.#classes.get(claim.spec?.storageClassName ?? '');
    if (!cls || cls.provisioner !== plugin.name) return;
    const selected = annotations[ANN_SELECTED_NODE];
    if (selected && selected !== this.#nodeName) return;
    const ref = { resource: 'persistentvolumeclaims', namespace: claim.metadata?.namespace, name: claim.metadata?.name };
    if (!selected) {
      if (cls.volumeBindingMode === 'WaitForFirstConsumer') return;
      // an Immediate claim: the first node to take it (by resourceVersion) provisions it
      await this.#client.patch(
        ref,
        { metadata: { resourceVersion: claim.metadata?.resourceVersion, annotations: { [ANN_SELECTED_NODE]: this.#nodeName } } },
        'merge',
      );
      return;
    }
    if (this.#volumes.get(`pvc-${claim.metadata?.uid}`)) return;
    const involved = { ...claim, apiVersion: 'v1', kind: 'PersistentVolumeClaim' };
    this.#events.event(involved, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${key}"`);
    const req = createVolumeRequest(claim, cls, plugin);
    let v: CsiVolume;
    try {
      v = await plugin.client.createVolume(req);
    } catch (err) {
      this.#events.event(
        involved,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${cls.metadata?.name}": ${(err as Error).message}`,
      );
      throw err;
    }
    try {
      await this.#client.create({ resource: 'persistentvolumes' }, provisionedVolume(claim, cls, plugin, v, req.fsType));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
    this.#events.event(involved, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume pvc-${claim.metadata?.uid}`);
    this.#log.info({ claim: key, volume: v.volumeId, bytes: v.capacityBytes }, 'volume provisioned');
  }

  async #syncVolume(name: string): Promise<void> {
    const pv = this.#volumes.get(name);
    if (pv?.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const plugin = this.#provisioning(pv.metadata?.annotations?.[ANN_PROVISIONED_BY]);
    if (!plugin || pv.spec.csi?.driver !== plugin.name || !volumeOnNode(pv, plugin)) return;
    try {
      await plugin.client.deleteVolume(pv.spec.csi.volumeHandle);
    } catch (err) {
      this.#events.event({ ...pv, apiVersion: 'v1', kind: 'PersistentVolume' }, 'Warning', 'VolumeFailedDelete', (err as Error).message);
      throw err;
    }
    try {
      await this.#client.delete({ resource: 'persistentvolumes', name }, { preconditions: { uid: pv.metadata?.uid } });
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
    this.#log.info({ volume: name }, 'volume deleted under its Delete reclaim policy');
  }
}
