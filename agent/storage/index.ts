export { PluginRegistry } from './plugins.ts';
export type { CsiPlugin } from './plugins.ts';
export { CsiVolumes, CsiVolumeError, csiAccessMode } from './csi-volumes.ts';
export { syncCsiNode, csiNodeDrivers, NODE_ID_ANNOTATION } from './csi-node.ts';
