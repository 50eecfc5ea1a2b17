export { Agent } from './agent.ts';
export type { AgentOptions } from './agent.ts';
export { loadAgentConfig, parseAgentConfig, DEFAULT_CONFIG } from './config.ts';
export type { AgentConfig, ConfigWarning } from './config.ts';
export { CriClient, writeContainerdConfig } from './cri/index.ts';
export type { ContainerdLayout } from './cri/index.ts';
export { CniRunner } from './cni/index.ts';
export { MANAGED_BY, POD_UID, PodSyncer } from './pods/index.ts';
export { ServiceProxy, cleanupProxy } from './proxy/index.ts';
