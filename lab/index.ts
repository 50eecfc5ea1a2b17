export { startDaemon, stopDaemon, stopPid, readPid, isAlive, waitFor } from './daemon.ts';
export { SIGNER_TAKEOVER_MS, agentJoinFlags, createJoinToken, nodeJoinPaths, prepareNodeJoin, writeNodeJoin } from './node-join.ts';
export type { NodeJoinFiles, NodeJoinPaths, NodeJoinRequest } from './node-join.ts';
export { containerdLayout, prepareContainerd, spawnContainerd, waitUntilServing, DELEGATE_PLUGIN } from './containerd.ts';
export { removeAllSandboxes, unmountUnder, detachLoopDevicesUnder, deleteLink, netnsNames } from './teardown.ts';
export { mountsUnder } from '../apimachinery/index.ts';
export { HollowNodes, DEFAULT_HOLLOW } from './hollow-nodes.ts';
export type { HollowNodeOptions } from './hollow-nodes.ts';
export {
  createLabNetwork,
  startLabNodes,
  stopLab,
  removeLabFiles,
  labNodes,
  labHostAddress,
  powerOffLabNode,
  powerOnLabNode,
  setLabNodeLink,
} from './multi-node.ts';
export type { LabOptions, LabNode } from './multi-node.ts';
export { installStorageDefaults, BUNDLED_CSI_DRIVER, DEFAULT_STORAGE_CLASS } from './storage-defaults.ts';
