import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const CSI_PROTO = fileURLToPath(new URL('./csi.proto', import.meta.url));
const REGISTRATION_PROTO = fileURLToPath(new URL('./registration.proto', import.meta.url));

// camelCase fields, int64 as numbers (volume sizes stay far below 2^53), enums as their names
const LOAD_OPTIONS: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

export interface CsiServices {
  Identity: grpc.ServiceClientConstructor;
  Controller: grpc.ServiceClientConstructor;
  Node: grpc.ServiceClientConstructor;
}

let csi: CsiServices | undefined;
let registration: grpc.ServiceClientConstructor | undefined;

/** The csi.v1 Identity, Controller and Node services (clients and their service definitions). */
export function csiServices(): CsiServices {
  if (!csi) {
    const root = grpc.loadPackageDefinition(protoLoader.loadSync(CSI_PROTO, LOAD_OPTIONS)) as unknown as { csi: { v1: CsiServices } };
    csi = root.csi.v1;
  }
  return csi;
}

/** The kubelet's pluginregistration Registration service. */
export function registrationService(): grpc.ServiceClientConstructor {
  if (!registration) {
    const root = grpc.loadPackageDefinition(protoLoader.loadSync(REGISTRATION_PROTO, LOAD_OPTIONS)) as unknown as {
      pluginregistration: { Registration: grpc.ServiceClientConstructor };
    };
    registration = root.pluginregistration.Registration;
  }
  return registration;
}

// ---- message shapes as the loader gives them (camelCase; int64 as number; enums by name) ----

export type AccessModeName =
  | 'UNKNOWN'
  | 'SINGLE_NODE_WRITER'
  | 'SINGLE_NODE_READER_ONLY'
  | 'MULTI_NODE_READER_ONLY'
  | 'MULTI_NODE_SINGLE_WRITER'
  | 'MULTI_NODE_MULTI_WRITER'
  | 'SINGLE_NODE_SINGLE_WRITER'
  | 'SINGLE_NODE_MULTI_WRITER';

export interface VolumeCapability {
  block?: Record<string, never> | null;
  mount?: { fsType?: string; mountFlags?: string[]; volumeMountGroup?: string } | null;
  accessMode?: { mode: AccessModeName } | null;
  accessType?: 'block' | 'mount';
}

export interface CapacityRange {
  requiredBytes?: number;
  limitBytes?: number;
}

export interface Topology {
  segments: Record<string, string>;
}

export interface CsiVolume {
  capacityBytes: number;
  volumeId: string;
  volumeContext: Record<string, string>;
  accessibleTopology: Topology[];
}

export interface CreateVolumeRequest {
  name: string;
  capacityRange?: CapacityRange | null;
  volumeCapabilities: VolumeCapability[];
  parameters?: Record<string, string>;
  secrets?: Record<string, string>;
  accessibilityRequirements?: { requisite: Topology[]; preferred: Topology[] } | null;
}

export interface NodeStageVolumeRequest {
  volumeId: string;
  publishContext?: Record<string, string>;
  stagingTargetPath: string;
  volumeCapability?: VolumeCapability | null;
  secrets?: Record<string, string>;
  volumeContext?: Record<string, string>;
}

export interface NodePublishVolumeRequest {
  volumeId: string;
  publishContext?: Record<string, string>;
  stagingTargetPath?: string;
  targetPath: string;
  volumeCapability?: VolumeCapability | null;
  readonly?: boolean;
  secrets?: Record<string, string>;
  volumeContext?: Record<string, string>;
}

export interface NodeExpandVolumeRequest {
  volumeId: string;
  volumePath: string;
  capacityRange?: CapacityRange | null;
  stagingTargetPath?: string;
  volumeCapability?: VolumeCapability | null;
}

export interface VolumeUsage {
  available: number;
  total: number;
  used: number;
  unit: 'UNKNOWN' | 'BYTES' | 'INODES';
}

export interface PluginInfo {
  type: string;
  name: string;
  endpoint: string;
  supportedVersions: string[];
}

/** The topology key the bundled driver reports: volumes live on one node. */
export const NODE_TOPOLOGY_KEY = 'topology.csi.skiff.dev/node';
