export { startDaemon, stopDaemon, stopPid, readPid, isAlive, waitFor } from './daemon.ts';
export { writeNodeCredentials } from './node-credentials.ts';
export type { NodeCredentialsRequest } from './node-credentials.ts';
export { containerdLayout, prepareContainerd, spawnContainerd, waitUntilServing, DELEGATE_PLUGIN } from './containerd.ts';
export { removeAllSandboxes, mountsUnder, unmountUnder, deleteLink, netnsNames } from './teardown.ts';
export { HollowNodes, DEFAULT_HOLLOW } from './hollow-nodes.ts';
export type { HollowNodeOptions } from './hollow-nodes.ts';
export { createLabNetwork, startLabNodes, stopLab, removeLabFiles, labNodes, labHostAddress } from './multi-node.ts';
export type { LabOptions, LabNode } from './multi-node.ts';
