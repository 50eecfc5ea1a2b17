export { PluginRegistry, pluginRegistryDir, pluginSocket } from './plugins.ts';
export type { CsiPlugin } from './plugins.ts';
export { CsiVolumes, CsiVolumeError, csiAccessMode } from './csi-volumes.ts';
export { syncCsiNode, csiNodeDrivers, NODE_ID_ANNOTATION } from './csi-node.ts';
export { NodeProvisioner, createVolumeRequest, provisionedVolume } from './provisioner.ts';
export { NodeResizer, FS_RESIZE_PENDING } from './resizer.ts';
export { volumeOnNode } from './topology.ts';
export { startNodeStorage } from './node-storage.ts';
export { claimVolumeStats } from './claim-stats.ts';
