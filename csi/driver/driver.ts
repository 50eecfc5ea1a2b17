import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { mkdir, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { mountAt, type Logger } from '../../apimachinery/index.ts';
import {
  csiServices,
  NODE_TOPOLOGY_KEY,
  type AccessModeName,
  type CapacityRange,
  type CreateVolumeRequest,
  type NodeExpandVolumeRequest,
  type NodePublishVolumeRequest,
  type NodeStageVolumeRequest,
  type Topology,
  type VolumeCapability,
} from '../proto.ts';
import { DirBackend, LoopBackend, SUPPORTED_FS, type Backend } from './backends.ts';
import { RpcError, alreadyExists, failedPrecondition, invalid, notFound, outOfRange, resourceExhausted } from './errors.ts';
import { bindMount, unmount } from './host.ts';
import { VolumeStore, type VolumeRecord } from './volume-store.ts';

export const DRIVER_NAME = 'csi.skiff.dev';
export const DRIVER_VERSION = '0.1.0';

const MiB = 1024 * 1024;
const DEFAULT_SIZE = 1024 * MiB;
// the smallest filesystems mkfs makes without complaint
const MIN_SIZE: Record<string, number> = { ext4: 16 * MiB, xfs: 300 * MiB };
// the volume is on one node: it can be written from one node (by one or many pods there)
const SUPPORTED_MODES: AccessModeName[] = ['SINGLE_NODE_WRITER', 'SINGLE_NODE_READER_ONLY', 'SINGLE_NODE_SINGLE_WRITER', 'SINGLE_NODE_MULTI_WRITER'];
const PARAMETERS = ['backend'];

export interface DriverOptions {
  name?: string;
  nodeId: string;
  /** volume files, directories and their records */
  stateDir: string;
  log: Logger;
}

/** Why a capability cannot be served, or undefined when it can. */
function capabilityProblem(c: VolumeCapability, backend: string): string | undefined {
  if (c.block) return 'block access is not supported: volumes are mounted filesystems';
  if (!c.mount) return 'volume capability has no access type (mount or block)';
  const mode = c.accessMode?.mode ?? 'UNKNOWN';
  if (!SUPPORTED_MODES.includes(mode)) return `access mode ${mode} is not supported: a volume lives on one node (supported: ${SUPPORTED_MODES.join(', ')})`;
  const fs = c.mount.fsType || 'ext4';
  if (backend === 'loop' && !SUPPORTED_FS.includes(fs)) return `filesystem ${fs} is not supported (supported: ${SUPPORTED_FS.join(', ')})`;
  return undefined;
}

function required(value: string | undefined, field: string): string {
  if (!value) throw invalid(`${field} is required`);
  return value;
}

function requireCapability(c: VolumeCapability | null | undefined, backend: string): VolumeCapability {
  if (!c) throw invalid('volume_capability is required');
  const problem = capabilityProblem(c, backend);
  if (problem) throw invalid(problem);
  return c;
}

/** The size to allocate for a capacity range: at least what is required, rounded up to MiB, never above the limit. */
export function sizeFor(range: CapacityRange | null | undefined, fsType: string): number {
  const req = range?.requiredBytes ?? 0;
  const limit = range?.limitBytes ?? 0;
  if (req < 0 || limit < 0) throw outOfRange('capacity_range bytes must not be negative');
  if (limit && req > limit) throw outOfRange(`capacity_range required_bytes ${req} exceeds limit_bytes ${limit}`);
  let size = req ? Math.ceil(req / MiB) * MiB : DEFAULT_SIZE;
  size = Math.max(size, MIN_SIZE[fsType] ?? MiB);
  if (limit && size > limit) {
    if (limit < (MIN_SIZE[fsType] ?? 0)) throw outOfRange(`limit_bytes ${limit} is below the smallest ${fsType} volume (${MIN_SIZE[fsType]} bytes)`);
    size = limit;
  }
  return size;
}

function fits(v: VolumeRecord, range: CapacityRange | null | undefined): boolean {
  const req = range?.requiredBytes ?? 0;
  const limit = range?.limitBytes ?? 0;
  return v.capacityBytes >= req && (!limit || v.capacityBytes <= limit);
}

/** A volume id from the CO's name: the name itself when it is a plain word, else a digest of it. */
function volumeIdFor(name: string): string {
  return /^[a-z0-9][a-z0-9.-]{0,62}$/.test(name) ? name : `vol-${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

/**
 * skiff's bundled CSI driver: Identity, Controller and Node services over
 * `loop` (sparse file → loop device → ext4/xfs) and `dir` (a directory)
 * volumes kept under one state directory on this node. Every call is
 * idempotent; calls on one volume run one at a time.
 */
export class CsiDriver {
  readonly name: string;
  #o: DriverOptions;
  #store: VolumeStore;
  #backends: Record<VolumeRecord['backend'], Backend>;
  #locks = new Map<string, Promise<unknown>>();

  constructor(o: DriverOptions) {
    this.#o = o;
    this.name = o.name ?? DRIVER_NAME;
    this.#store = new VolumeStore(o.stateDir);
    this.#backends = { loop: new LoopBackend(this.#store), dir: new DirBackend(this.#store) };
  }

  get topology(): Topology {
    return { segments: { [NODE_TOPOLOGY_KEY]: this.#o.nodeId } };
  }

  /** Serves the three services on a unix socket (replacing a stale one); resolves once listening. */
  async serve(socket: string): Promise<grpc.Server> {
    await this.#store.init();
    await mkdir(dirname(socket), { recursive: true });
    await rm(socket, { force: true });
    const server = new grpc.Server();
    const s = csiServices();
    server.addService(
      s.Identity.service,
      this.#handlers({
        GetPluginInfo: async () => ({ name: this.name, vendorVersion: DRIVER_VERSION, manifest: {} }),
        GetPluginCapabilities: async () => ({
          capabilities: [
            { service: { type: 'CONTROLLER_SERVICE' } },
            { service: { type: 'VOLUME_ACCESSIBILITY_CONSTRAINTS' } },
            { volumeExpansion: { type: 'ONLINE' } },
          ],
        }),
        Probe: async () => ({ ready: { value: true } }),
      }),
    );
    server.addService(
      s.Controller.service,
      this.#handlers({
        CreateVolume: (r) => this.createVolume(r as CreateVolumeRequest),
        DeleteVolume: (r) => this.#locked((r as { volumeId: string }).volumeId, () => this.deleteVolume(r as { volumeId: string })),
        ValidateVolumeCapabilities: (r) =>
          this.validateVolumeCapabilities(r as { volumeId: string; volumeCapabilities: VolumeCapability[]; volumeContext: Record<string, string> }),
        ControllerGetCapabilities: async () => ({
          capabilities: ['CREATE_DELETE_VOLUME', 'EXPAND_VOLUME', 'SINGLE_NODE_MULTI_WRITER'].map((type) => ({ rpc: { type } })),
        }),
        ControllerExpandVolume: (r) =>
          this.#locked((r as { volumeId: string }).volumeId, () =>
            this.controllerExpandVolume(r as { volumeId: string; capacityRange?: CapacityRange; volumeCapability?: VolumeCapability }),
          ),
      }),
    );
    server.addService(
      s.Node.service,
      this.#handlers({
        NodeStageVolume: (r) => this.#locked((r as { volumeId: string }).volumeId, () => this.nodeStageVolume(r as NodeStageVolumeRequest)),
        NodeUnstageVolume: (r) =>
          this.#locked((r as { volumeId: string }).volumeId, () => this.nodeUnstageVolume(r as { volumeId: string; stagingTargetPath: string })),
        NodePublishVolume: (r) => this.#locked((r as { volumeId: string }).volumeId, () => this.nodePublishVolume(r as NodePublishVolumeRequest)),
        NodeUnpublishVolume: (r) =>
          this.#locked((r as { volumeId: string }).volumeId, () => this.nodeUnpublishVolume(r as { volumeId: string; targetPath: string })),
        NodeGetVolumeStats: (r) => this.nodeGetVolumeStats(r as { volumeId: string; volumePath: string }),
        NodeExpandVolume: (r) => this.#locked((r as { volumeId: string }).volumeId, () => this.nodeExpandVolume(r as NodeExpandVolumeRequest)),
        NodeGetCapabilities: async () => ({
          capabilities: ['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS', 'EXPAND_VOLUME', 'SINGLE_NODE_MULTI_WRITER'].map((type) => ({ rpc: { type } })),
        }),
        NodeGetInfo: async () => ({ nodeId: this.#o.nodeId, maxVolumesPerNode: 0, accessibleTopology: this.topology }),
      }),
    );
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    return server;
  }

  #handlers(fns: Record<string, (req: unknown) => Promise<object>>): grpc.UntypedServiceImplementation {
    const out: grpc.UntypedServiceImplementation = {};
    for (const [method, fn] of Object.entries(fns)) {
      out[method] = ((call: grpc.ServerUnaryCall<unknown, object>, cb: grpc.sendUnaryData<object>) => {
        fn(call.request).then(
          (res) => cb(null, res),
          (err: Error) => {
            const code = err instanceof RpcError ? err.code : grpc.status.INTERNAL;
            if (code === grpc.status.INTERNAL) this.#o.log.warn({ method, err: err.message }, 'CSI call failed');
            cb({ code, details: err.message });
          },
        );
      }) as grpc.handleUnaryCall<unknown, object>;
    }
    return out;
  }

  /** Runs calls on one volume one after another (a CO may retry while a slow mkfs is still running). */
  #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(key) ?? Promise.resolve();
    // the previous holder's failure was its caller's; this one runs regardless
    const next = prev.catch(() => undefined).then(fn);
    this.#locks.set(key, next);
    void next
      // the caller of fn sees its failure; this chain only tidies the lock
      .catch(() => undefined)
      .finally(() => {
        if (this.#locks.get(key) === next) this.#locks.delete(key);
      });
    return next;
  }

  async #volume(id: string): Promise<VolumeRecord> {
    const v = await this.#store.get(required(id, 'volume_id'));
    if (!v) throw notFound(`volume ${id} does not exist`);
    return v;
  }

  // ---- Controller ----

  async createVolume(r: CreateVolumeRequest): Promise<object> {
    const name = required(r.name, 'name');
    if (!r.volumeCapabilities?.length) throw invalid('volume_capabilities are required');
    const parameters = r.parameters ?? {};
    const unknown = Object.keys(parameters).filter((k) => !PARAMETERS.includes(k));
    if (unknown.length) throw invalid(`unknown parameters: ${unknown.join(', ')} (supported: ${PARAMETERS.join(', ')})`);
    const backend = parameters.backend ?? 'loop';
    if (backend !== 'loop' && backend !== 'dir') throw invalid(`parameter backend: ${backend} is not one of loop, dir`);
    for (const c of r.volumeCapabilities) {
      const problem = capabilityProblem(c, backend);
      if (problem) throw invalid(problem);
    }
    const req = r.accessibilityRequirements;
    const wanted = [...(req?.requisite ?? []), ...(req?.preferred ?? [])];
    if (wanted.length && !wanted.some((t) => t.segments[NODE_TOPOLOGY_KEY] === this.#o.nodeId)) {
      throw resourceExhausted(`cannot provision in the requested topology: this driver serves ${NODE_TOPOLOGY_KEY}=${this.#o.nodeId}`);
    }
    const fsType = r.volumeCapabilities.find((c) => c.mount?.fsType)?.mount?.fsType || 'ext4';
    return this.#locked(`name:${name}`, async () => {
      const existing = await this.#store.byName(name);
      if (existing) {
        if (!fits(existing, r.capacityRange) || existing.backend !== backend)
          throw alreadyExists(`volume ${name} exists with ${existing.capacityBytes} bytes on backend ${existing.backend}, incompatible with this request`);
        return { volume: this.#csiVolume(existing) };
      }
      const v: VolumeRecord = {
        id: volumeIdFor(name),
        name,
        backend,
        capacityBytes: sizeFor(r.capacityRange, backend === 'loop' ? fsType : ''),
        fsType,
        parameters,
      };
      await this.#backends[backend].create(v);
      await this.#store.put(v);
      this.#o.log.info({ volume: v.id, bytes: v.capacityBytes, backend }, 'volume created');
      return { volume: this.#csiVolume(v) };
    });
  }

  #csiVolume(v: VolumeRecord): object {
    return { volumeId: v.id, capacityBytes: v.capacityBytes, volumeContext: { backend: v.backend }, accessibleTopology: [this.topology] };
  }

  async deleteVolume(r: { volumeId: string }): Promise<object> {
    const v = await this.#store.get(required(r.volumeId, 'volume_id'));
    if (!v) return {};
    await this.#backends[v.backend].remove(v);
    await this.#store.remove(v);
    this.#o.log.info({ volume: v.id }, 'volume deleted');
    return {};
  }

  async validateVolumeCapabilities(r: { volumeId: string; volumeCapabilities: VolumeCapability[]; volumeContext: Record<string, string> }): Promise<object> {
    const v = await this.#volume(r.volumeId);
    if (!r.volumeCapabilities?.length) throw invalid('volume_capabilities are required');
    const problems = r.volumeCapabilities.map((c) => capabilityProblem(c, v.backend)).filter(Boolean);
    if (problems.length) return { message: problems.join('; ') };
    return { confirmed: { volumeContext: r.volumeContext ?? {}, volumeCapabilities: r.volumeCapabilities, parameters: {} } };
  }

  async controllerExpandVolume(r: { volumeId: string; capacityRange?: CapacityRange; volumeCapability?: VolumeCapability }): Promise<object> {
    const v = await this.#volume(r.volumeId);
    if (!r.capacityRange) throw invalid('capacity_range is required');
    const size = sizeFor(r.capacityRange, v.backend === 'loop' ? v.fsType : '');
    const backend = this.#backends[v.backend];
    // never shrink: an expansion to less than the volume holds is already done
    if (size > v.capacityBytes) {
      await backend.grow(v, size);
      await this.#store.put({ ...v, capacityBytes: size });
      this.#o.log.info({ volume: v.id, bytes: size }, 'volume expanded');
    }
    return { capacityBytes: Math.max(size, v.capacityBytes), nodeExpansionRequired: backend.nodeExpansionRequired };
  }

  // ---- Node ----

  async nodeStageVolume(r: NodeStageVolumeRequest): Promise<object> {
    const path = required(r.stagingTargetPath, 'staging_target_path');
    const v = await this.#volume(r.volumeId);
    const c = requireCapability(r.volumeCapability, v.backend);
    if (v.backend === 'loop' && c.mount?.fsType && c.mount.fsType !== v.fsType)
      throw alreadyExists(`volume ${v.id} is formatted ${v.fsType}, not ${c.mount.fsType}`);
    await this.#backends[v.backend].stage(v, path, c.mount?.mountFlags ?? []);
    return {};
  }

  async nodeUnstageVolume(r: { volumeId: string; stagingTargetPath: string }): Promise<object> {
    const path = required(r.stagingTargetPath, 'staging_target_path');
    const v = await this.#volume(r.volumeId);
    await this.#backends[v.backend].unstage(v, path);
    await rmdir(path).catch(() => undefined);
    return {};
  }

  async nodePublishVolume(r: NodePublishVolumeRequest): Promise<object> {
    const target = required(r.targetPath, 'target_path');
    const staging = required(r.stagingTargetPath, 'staging_target_path');
    const v = await this.#volume(r.volumeId);
    requireCapability(r.volumeCapability, v.backend);
    const staged = await mountAt(staging);
    if (!staged) throw failedPrecondition(`volume ${v.id} is not staged at ${staging}`);
    const readOnly = r.readonly ?? false;
    const published = await mountAt(target);
    if (published) {
      if (published.options.includes('ro') === readOnly) return {};
      throw alreadyExists(`volume ${v.id} is published at ${target} ${readOnly ? 'read-write' : 'read-only'}; asked ${readOnly ? 'read-only' : 'read-write'}`);
    }
    await mkdir(target, { recursive: true });
    await bindMount(staging, target, readOnly);
    return {};
  }

  async nodeUnpublishVolume(r: { volumeId: string; targetPath: string }): Promise<object> {
    const target = required(r.targetPath, 'target_path');
    await this.#volume(r.volumeId);
    if (await mountAt(target)) await unmount(target);
    await rmdir(target).catch(() => undefined);
    return {};
  }

  async nodeGetVolumeStats(r: { volumeId: string; volumePath: string }): Promise<object> {
    const path = required(r.volumePath, 'volume_path');
    await this.#volume(r.volumeId);
    if (!(await stat(path).catch(() => undefined))) throw notFound(`volume path ${path} does not exist`);
    const fs = await statfs(path);
    const total = fs.blocks * fs.bsize;
    const available = fs.bavail * fs.bsize;
    return {
      usage: [
        { unit: 'BYTES', total, available, used: total - fs.bfree * fs.bsize },
        { unit: 'INODES', total: fs.files, available: fs.ffree, used: fs.files - fs.ffree },
      ],
      volumeCondition: { abnormal: false, message: '' },
    };
  }

  async nodeExpandVolume(r: NodeExpandVolumeRequest): Promise<object> {
    const path = required(r.volumePath, 'volume_path');
    const v = await this.#volume(r.volumeId);
    if (!(await stat(path).catch(() => undefined))) throw notFound(`volume path ${path} does not exist`);
    if (r.capacityRange?.requiredBytes && r.capacityRange.requiredBytes > v.capacityBytes)
      throw outOfRange(`volume ${v.id} holds ${v.capacityBytes} bytes; expand it with ControllerExpandVolume first`);
    const stagedAt = r.stagingTargetPath || path;
    await this.#backends[v.backend].expandFilesystem(v, stagedAt);
    return { capacityBytes: v.capacityBytes };
  }
}
