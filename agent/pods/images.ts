import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { AuthConfig, ContainerRuntime, PodSandboxConfig } from '../cri/index.ts';
import type { Backoff } from './backoff.ts';
import type { Waiting } from './pod-status.ts';

export type PodEvent = (type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) => void;

/** Either the image to create the container from (and how long pulling it took, if it was pulled), or why the container must wait. */
export type ImageResult = { imageRef: string; pullSeconds?: number } | { waiting: Waiting; retryAfterMs?: number };

const fmtBytes = (n: number) => `${n} bytes`;

/** Pulls with each credential until one works; the last failure if none does. */
async function pullWithAny(cri: ContainerRuntime, image: string, credentials: AuthConfig[], sandbox: PodSandboxConfig): Promise<string> {
  let failure: unknown;
  for (const auth of credentials.length ? credentials : [undefined]) {
    try {
      return await cri.pullImage(image, auth, sandbox);
    } catch (err) {
      failure = err;
    }
  }
  throw failure;
}

/**
 * Makes sure a container's image is on the node, honouring imagePullPolicy
 * and per-image back-off, with the kubelet's events and waiting reasons.
 */
export async function ensureImage(args: {
  cri: ContainerRuntime;
  pod: Pod;
  container: Container;
  sandbox: PodSandboxConfig;
  backoff: Backoff;
  event: PodEvent;
  fieldPath: string;
  /** from the pod's imagePullSecrets, tried in turn (read only when a pull is due); none: an anonymous pull */
  credentials?: () => Promise<AuthConfig[]>;
  now: () => number;
}): Promise<ImageResult> {
  const { cri, pod, container, backoff, event, fieldPath } = args;
  const image = container.image ?? '';
  const policy = container.imagePullPolicy ?? 'IfNotPresent';
  const present = policy === 'Always' ? null : await cri.imageStatus(image);
  if (present) {
    event('Normal', 'Pulled', `Container image "${image}" already present on machine`, fieldPath);
    return { imageRef: present.id };
  }
  if (policy === 'Never') {
    const message = `Container image "${image}" is not present with pull policy of Never`;
    event('Warning', 'ErrImageNeverPull', message, fieldPath);
    return { waiting: { reason: 'ErrImageNeverPull', message } };
  }
  const key = `${pod.metadata?.uid}/image/${image}`;
  const remaining = backoff.remaining(key, args.now());
  if (remaining > 0) {
    const message = `Back-off pulling image "${image}"`;
    event('Normal', 'BackOff', message, fieldPath);
    return { waiting: { reason: 'ImagePullBackOff', message }, retryAfterMs: remaining };
  }
  event('Normal', 'Pulling', `Pulling image "${image}"`, fieldPath);
  const started = performance.now();
  try {
    const imageRef = await pullWithAny(cri, image, (await args.credentials?.()) ?? [], args.sandbox);
    const ms = Math.round(performance.now() - started);
    // the size only feeds the Pulled event's text
    const size = (await cri.imageStatus(imageRef).catch(() => null))?.size ?? 0;
    event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${ms}ms (${ms}ms including waiting). Image size: ${fmtBytes(size)}.`, fieldPath);
    backoff.reset(key);
    return { imageRef, pullSeconds: ms / 1000 };
  } catch (err) {
    const detail = (err as Error).message.replace(/^CRI PullImage: /, '');
    const delay = backoff.next(key, args.now());
    event('Warning', 'Failed', `Failed to pull image "${image}": ${detail}`, fieldPath);
    event('Warning', 'Failed', 'Error: ErrImagePull', fieldPath);
    return { waiting: { reason: 'ErrImagePull', message: `failed to pull and unpack image "${image}": ${detail}` }, retryAfterMs: delay };
  }
}
