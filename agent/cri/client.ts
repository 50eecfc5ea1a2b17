import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { unaryCall } from '../../apimachinery/index.ts';
import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerState,
  ContainerStats,
  ContainerStatus,
  ExecSyncResponse,
  FilesystemUsage,
  Image,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxState,
  PodSandboxStatus,
  StatusResponse,
  VersionResponse,
} from '../../cri-protos/types.ts';

const PROTO = fileURLToPath(new URL('../../cri-protos/api.proto', import.meta.url));

/** A CRI call failed; `code` is the gRPC status code (5 = NOT_FOUND, 14 = UNAVAILABLE, …). */
export class CriError extends Error {
  readonly code: number;
  readonly method: string;
  constructor(method: string, code: number, details: string) {
    super(`CRI ${method}: ${details}`);
    this.name = 'CriError';
    this.code = code;
    this.method = method;
  }
  get notFound(): boolean {
    return this.code === grpc.status.NOT_FOUND;
  }
}

let definition: grpc.GrpcObject | undefined;
function loadDefinition(): grpc.GrpcObject {
  definition ??= grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true }));
  return definition;
}

export interface CriClientOptions {
  /** per-call deadline for calls that have no timeout of their own */
  timeoutMs?: number;
  /** told of every call when it ends: its method, how long it took and whether it failed (the runtime operation metrics) */
  observe?: (method: string, seconds: number, failed: boolean) => void;
}

/**
 * Typed client for the CRI v1 RuntimeService and ImageService on one unix
 * socket (containerd or CRI-O). Each method is one RPC; errors are CriError.
 */
export class CriClient {
  readonly endpoint: string;
  #runtime: grpc.Client;
  #image: grpc.Client;
  #timeoutMs: number;
  #observe: CriClientOptions['observe'];

  constructor(socketPath: string, opts: CriClientOptions = {}) {
    this.endpoint = socketPath;
    const v1 = (loadDefinition().runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const address = `unix://${socketPath}`;
    const credentials = grpc.credentials.createInsecure();
    // a runtime that restarts is found again within a few seconds (as the kubelet dials: 100 ms back-off growing to at most 3 s)
    const options = { 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 3000 };
    this.#runtime = new (v1.RuntimeService as grpc.ServiceClientConstructor)(address, credentials, options);
    this.#image = new (v1.ImageService as grpc.ServiceClientConstructor)(address, credentials, { ...options, channelOverride: this.#runtime.getChannel() });
    this.#timeoutMs = opts.timeoutMs ?? 120_000;
    this.#observe = opts.observe;
  }

  close(): void {
    this.#runtime.close();
  }

  #call<T>(client: grpc.Client, method: string, req: object, timeoutMs = this.#timeoutMs): Promise<T> {
    const call = unaryCall<T>(client, method, req, timeoutMs, (m, code, details) => new CriError(m, code, details));
    const observe = this.#observe;
    if (!observe) return call;
    const started = performance.now();
    const ended = (failed: boolean) => observe(method, (performance.now() - started) / 1000, failed);
    return call.then(
      (v) => {
        ended(false);
        return v;
      },
      (err: unknown) => {
        ended(true);
        throw err;
      },
    );
  }

  // ---- runtime ----
  version(): Promise<VersionResponse> {
    return this.#call(this.#runtime, 'Version', { version: 'v1' }, 10_000);
  }
  status(): Promise<StatusResponse> {
    return this.#call(this.#runtime, 'Status', { verbose: false }, 10_000);
  }
  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const res = await this.#call<{ podSandboxId: string }>(this.#runtime, 'RunPodSandbox', { config, runtimeHandler });
    return res.podSandboxId;
  }
  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.#call(this.#runtime, 'StopPodSandbox', { podSandboxId });
  }
  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.#call(this.#runtime, 'RemovePodSandbox', { podSandboxId });
  }
  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus> {
    const res = await this.#call<{ status: PodSandboxStatus }>(this.#runtime, 'PodSandboxStatus', { podSandboxId });
    return res.status;
  }
  async listPodSandbox(filter: { id?: string; state?: PodSandboxState; labelSelector?: Record<string, string> } = {}): Promise<PodSandbox[]> {
    const res = await this.#call<{ items: PodSandbox[] }>(this.#runtime, 'ListPodSandbox', {
      filter: { id: filter.id ?? '', labelSelector: filter.labelSelector ?? {}, ...(filter.state ? { state: { state: filter.state } } : {}) },
    });
    return res.items;
  }
  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const res = await this.#call<{ containerId: string }>(this.#runtime, 'CreateContainer', { podSandboxId, config, sandboxConfig });
    return res.containerId;
  }
  async startContainer(containerId: string): Promise<void> {
    await this.#call(this.#runtime, 'StartContainer', { containerId });
  }
  /** Stops with SIGTERM, then SIGKILL after `timeoutSeconds`. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.#call(this.#runtime, 'StopContainer', { containerId, timeout: timeoutSeconds }, (timeoutSeconds + 60) * 1000);
  }
  async removeContainer(containerId: string): Promise<void> {
    await this.#call(this.#runtime, 'RemoveContainer', { containerId });
  }
  async listContainers(
    filter: { id?: string; podSandboxId?: string; state?: ContainerState; labelSelector?: Record<string, string> } = {},
  ): Promise<Container[]> {
    const res = await this.#call<{ containers: Container[] }>(this.#runtime, 'ListContainers', {
      filter: {
        id: filter.id ?? '',
        podSandboxId: filter.podSandboxId ?? '',
        labelSelector: filter.labelSelector ?? {},
        ...(filter.state ? { state: { state: filter.state } } : {}),
      },
    });
    return res.containers;
  }
  async containerStatus(containerId: string): Promise<ContainerStatus> {
    const res = await this.#call<{ status: ContainerStatus }>(this.#runtime, 'ContainerStatus', { containerId });
    return res.status;
  }
  execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResponse> {
    return this.#call(this.#runtime, 'ExecSync', { containerId, cmd, timeout: timeoutSeconds }, (timeoutSeconds + 10) * 1000);
  }
  /** A streaming URL on the runtime's server for one exec session (the runtime's token is in it). */
  async exec(req: { containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string> {
    return (await this.#call<{ url: string }>(this.#runtime, 'Exec', req)).url;
  }
  async attach(req: { containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string> {
    return (await this.#call<{ url: string }>(this.#runtime, 'Attach', req)).url;
  }
  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    return (await this.#call<{ url: string }>(this.#runtime, 'PortForward', { podSandboxId, port: ports })).url;
  }
  async reopenContainerLog(containerId: string): Promise<void> {
    await this.#call(this.#runtime, 'ReopenContainerLog', { containerId });
  }

  /** What the writable layers of the containers whose labels match use on disk (the rest of the stats is read from cgroups). */
  async listContainerStats(labelSelector: Record<string, string>): Promise<ContainerStats[]> {
    return (await this.#call<{ stats: ContainerStats[] }>(this.#runtime, 'ListContainerStats', { filter: { labelSelector } })).stats;
  }

  // ---- images ----
  async pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const res = await this.#call<{ imageRef: string }>(this.#image, 'PullImage', { image: { image }, auth, sandboxConfig });
    return res.imageRef;
  }
  /** null when the runtime does not hold the image */
  async imageStatus(image: string): Promise<Image | null> {
    const res = await this.#call<{ image: Image | null }>(this.#image, 'ImageStatus', { image: { image } });
    return res.image;
  }
  async listImages(): Promise<Image[]> {
    const res = await this.#call<{ images: Image[] }>(this.#image, 'ListImages', {});
    return res.images;
  }
  async removeImage(image: string): Promise<void> {
    await this.#call(this.#image, 'RemoveImage', { image: { image } });
  }
  async imageFsInfo(): Promise<FilesystemUsage[]> {
    const res = await this.#call<{ imageFilesystems: FilesystemUsage[] }>(this.#image, 'ImageFsInfo', {});
    return res.imageFilesystems;
  }
}
