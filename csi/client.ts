import * as grpc from '@grpc/grpc-js';
import { unaryCall } from '../apimachinery/index.ts';
import {
  csiServices,
  registrationService,
  type CapacityRange,
  type CreateVolumeRequest,
  type CsiVolume,
  type NodeExpandVolumeRequest,
  type NodePublishVolumeRequest,
  type NodeStageVolumeRequest,
  type PluginInfo,
  type Topology,
  type VolumeCapability,
  type VolumeUsage,
} from './proto.ts';

/** A CSI call failed; `code` is the gRPC status code the plugin answered with. */
export class CsiError extends Error {
  readonly code: grpc.status;
  readonly method: string;
  readonly details: string;
  constructor(method: string, code: grpc.status, details: string) {
    super(`rpc error: code = ${codeName(code)} desc = ${details}`);
    this.name = 'CsiError';
    this.code = code;
    this.method = method;
    this.details = details;
  }
}

/** A gRPC code as Go names it (InvalidArgument), which is how kubelet messages show it. */
function codeName(code: grpc.status): string {
  return (grpc.status[code] ?? String(code)).toLowerCase().replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}

function call<T>(client: grpc.Client, method: string, req: object, timeoutMs: number): Promise<T> {
  return unaryCall(client, method, req, timeoutMs, (m, code, details) => new CsiError(m, code, details));
}

const address = (socket: string) => (socket.startsWith('unix:') ? socket : `unix://${socket}`);

export interface NodeInfo {
  nodeId: string;
  maxVolumesPerNode: number;
  accessibleTopology?: Topology | null;
}

/**
 * A client of one CSI plugin's socket: Identity, Controller and Node on one
 * channel. Each method is one RPC; failures are CsiError with the plugin's code.
 */
export class CsiClient {
  readonly endpoint: string;
  #identity: grpc.Client;
  #controller: grpc.Client;
  #node: grpc.Client;
  #timeoutMs: number;

  constructor(socket: string, opts: { timeoutMs?: number } = {}) {
    this.endpoint = socket;
    const s = csiServices();
    const credentials = grpc.credentials.createInsecure();
    this.#identity = new s.Identity(address(socket), credentials);
    const shared = { channelOverride: this.#identity.getChannel() };
    this.#controller = new s.Controller(address(socket), credentials, shared);
    this.#node = new s.Node(address(socket), credentials, shared);
    // mkfs of a large volume takes a while; the kubelet gives CSI calls two minutes
    this.#timeoutMs = opts.timeoutMs ?? 120_000;
  }

  close(): void {
    this.#identity.close();
  }

  // ---- Identity ----
  pluginInfo(): Promise<{ name: string; vendorVersion: string; manifest: Record<string, string> }> {
    return call(this.#identity, 'GetPluginInfo', {}, 10_000);
  }
  async pluginCapabilities(): Promise<string[]> {
    const res = await call<{ capabilities: Array<{ service?: { type: string } | null; volumeExpansion?: { type: string } | null }> }>(
      this.#identity,
      'GetPluginCapabilities',
      {},
      10_000,
    );
    return res.capabilities.map((c) => (c.service ? c.service.type : `VOLUME_EXPANSION_${c.volumeExpansion?.type ?? 'UNKNOWN'}`));
  }
  async probe(): Promise<boolean> {
    const res = await call<{ ready?: { value: boolean } | null }>(this.#identity, 'Probe', {}, 10_000);
    return res.ready?.value ?? true;
  }

  // ---- Controller ----
  async createVolume(req: CreateVolumeRequest): Promise<CsiVolume> {
    return (await call<{ volume: CsiVolume }>(this.#controller, 'CreateVolume', req, this.#timeoutMs)).volume;
  }
  async deleteVolume(volumeId: string, secrets: Record<string, string> = {}): Promise<void> {
    await call(this.#controller, 'DeleteVolume', { volumeId, secrets }, this.#timeoutMs);
  }
  validateVolumeCapabilities(
    volumeId: string,
    volumeCapabilities: VolumeCapability[],
    volumeContext: Record<string, string> = {},
  ): Promise<{ confirmed?: { volumeCapabilities: VolumeCapability[] } | null; message: string }> {
    return call(this.#controller, 'ValidateVolumeCapabilities', { volumeId, volumeCapabilities, volumeContext }, this.#timeoutMs);
  }
  async controllerCapabilities(): Promise<string[]> {
    const res = await call<{ capabilities: Array<{ rpc?: { type: string } | null }> }>(this.#controller, 'ControllerGetCapabilities', {}, 10_000);
    return res.capabilities.map((c) => c.rpc?.type ?? 'UNKNOWN');
  }
  controllerExpandVolume(
    volumeId: string,
    capacityRange: CapacityRange,
    volumeCapability?: VolumeCapability,
  ): Promise<{ capacityBytes: number; nodeExpansionRequired: boolean }> {
    return call(this.#controller, 'ControllerExpandVolume', { volumeId, capacityRange, volumeCapability }, this.#timeoutMs);
  }

  // ---- Node ----
  async nodeStageVolume(req: NodeStageVolumeRequest): Promise<void> {
    await call(this.#node, 'NodeStageVolume', req, this.#timeoutMs);
  }
  async nodeUnstageVolume(volumeId: string, stagingTargetPath: string): Promise<void> {
    await call(this.#node, 'NodeUnstageVolume', { volumeId, stagingTargetPath }, this.#timeoutMs);
  }
  async nodePublishVolume(req: NodePublishVolumeRequest): Promise<void> {
    await call(this.#node, 'NodePublishVolume', req, this.#timeoutMs);
  }
  async nodeUnpublishVolume(volumeId: string, targetPath: string): Promise<void> {
    await call(this.#node, 'NodeUnpublishVolume', { volumeId, targetPath }, this.#timeoutMs);
  }
  async nodeGetVolumeStats(volumeId: string, volumePath: string, stagingTargetPath = ''): Promise<VolumeUsage[]> {
    return (await call<{ usage: VolumeUsage[] }>(this.#node, 'NodeGetVolumeStats', { volumeId, volumePath, stagingTargetPath }, 10_000)).usage;
  }
  async nodeExpandVolume(req: NodeExpandVolumeRequest): Promise<number> {
    return (await call<{ capacityBytes: number }>(this.#node, 'NodeExpandVolume', req, this.#timeoutMs)).capacityBytes;
  }
  async nodeCapabilities(): Promise<string[]> {
    const res = await call<{ capabilities: Array<{ rpc?: { type: string } | null }> }>(this.#node, 'NodeGetCapabilities', {}, 10_000);
    return res.capabilities.map((c) => c.rpc?.type ?? 'UNKNOWN');
  }
  nodeGetInfo(): Promise<NodeInfo> {
    return call(this.#node, 'NodeGetInfo', {}, 10_000);
  }
}

/** A client of a plugin's registration socket (what the agent's plugin watcher calls). */
export class RegistrationClient {
  #client: grpc.Client;
  constructor(socket: string) {
    const Registration = registrationService();
    this.#client = new Registration(address(socket), grpc.credentials.createInsecure());
  }
  info(): Promise<PluginInfo> {
    return call(this.#client, 'GetInfo', {}, 10_000);
  }
  async notify(pluginRegistered: boolean, error = ''): Promise<void> {
    await call(this.#client, 'NotifyRegistrationStatus', { pluginRegistered, error }, 10_000);
  }
  close(): void {
    this.#client.close();
  }
}
