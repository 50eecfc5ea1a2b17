import type { CriClient } from './client.ts';

/**
 * What the pod workers ask of a container runtime: the CRI calls a pod's
 * sync, observation and relist make. CriClient is the real one; tests hand
 * in a fake.
 */
export type ContainerRuntime = Pick<
  CriClient,
  | 'runPodSandbox'
  | 'stopPodSandbox'
  | 'removePodSandbox'
  | 'podSandboxStatus'
  | 'listPodSandbox'
  | 'createContainer'
  | 'startContainer'
  | 'stopContainer'
  | 'removeContainer'
  | 'listContainers'
  | 'containerStatus'
  | 'execSync'
  | 'pullImage'
  | 'imageStatus'
>;
