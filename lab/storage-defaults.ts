import type { CSIDriver, StorageClass } from 'kubernetes-types/storage/v1.js';
import { ApiError, type RestClient } from '../apimachinery/index.ts';
import { DRIVER_NAME } from '../csi/index.ts';

/** The CSIDriver object of the bundled driver: no attach step, persistent volumes, fsGroup applied when formatted. */
export const BUNDLED_CSI_DRIVER: CSIDriver = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSIDriver',
  metadata: { name: DRIVER_NAME },
  spec: {
    attachRequired: false,
    podInfoOnMount: false,
    volumeLifecycleModes: ['Persistent'],
    fsGroupPolicy: 'ReadWriteOnceWithFSType',
    requiresRepublish: false,
    storageCapacity: false,
  },
};

/** The cluster's default class: loop-device volumes (ext4) on the node the pod is scheduled to. */
export const DEFAULT_STORAGE_CLASS: StorageClass = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'skiff-local', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: DRIVER_NAME,
  parameters: { backend: 'loop', 'csi.storage.k8s.io/fstype': 'ext4' },
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
  allowVolumeExpansion: true,
};

/** Creates the bundled driver's CSIDriver and the default StorageClass unless they exist (an edited class is left as it is). */
export async function installStorageDefaults(client: RestClient): Promise<void> {
  for (const [resource, body] of [
    ['csidrivers', BUNDLED_CSI_DRIVER],
    ['storageclasses', DEFAULT_STORAGE_CLASS],
  ] as const) {
    try {
      await client.create({ group: 'storage.k8s.io', version: 'v1', resource }, body);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
}
