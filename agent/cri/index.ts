export { CriClient, CriError } from './client.ts';
export type { CriClientOptions } from './client.ts';
export { writeContainerdConfig, renderContainerdConfig, renderHostsToml, DEFAULT_SANDBOX_IMAGE } from './containerd-config.ts';
export type { ContainerdLayout } from './containerd-config.ts';
export type * from '../../cri-protos/types.ts';
export type { ContainerRuntime } from './runtime.ts';
