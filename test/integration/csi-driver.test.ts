// The bundled CSI driver against the CSI contract, on real loop devices,
// filesystems and bind mounts: each RPC's required codes and idempotency
// (in the spirit of csi-sanity), read-only publish enforced, DeleteVolume
// freeing the backing file, expansion growing the filesystem.
import { status } from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { readFile, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountAt } from '../../apimachinery/index.ts';
import { CsiError, NODE_TOPOLOGY_KEY, type VolumeCapability } from '../../csi/index.ts';
import { startTestDriver, type TestDriver } from '../harness/index.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const RWO = (fsType = 'ext4'): VolumeCapability => ({ mount: { fsType, mountFlags: [] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } });

let d: TestDriver;

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return status.OK;
  } catch (err) {
    if (err instanceof CsiError) return err.code;
    throw err;
  }
}

const loopOf = async (file: string) => (await run('losetup', ['-j', file, '-O', 'NAME', '-n'])).stdout.trim();

beforeAll(async () => {
  d = await startTestDriver('sanity', 'node-a');
});

afterAll(async () => {
  await d?.teardown();
});

describe('CSI Identity', () => {
  it('names the driver, is ready, and offers the controller, topology and online expansion', async () => {
    expect(await d.client.pluginInfo()).toMatchObject({ name: 'csi.skiff.dev', vendorVersion: expect.any(String) });
    expect(await d.client.probe()).toBe(true);
    expect(await d.client.pluginCapabilities()).toEqual(['CONTROLLER_SERVICE', 'VOLUME_ACCESSIBILITY_CONSTRAINTS', 'VOLUME_EXPANSION_ONLINE']);
    expect(await d.client.controllerCapabilities()).toContain('CREATE_DELETE_VOLUME');
    expect(await d.client.nodeCapabilities()).toEqual(expect.arrayContaining(['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS', 'EXPAND_VOLUME']));
    expect(await d.client.nodeGetInfo()).toMatchObject({ nodeId: 'node-a', accessibleTopology: { segments: { [NODE_TOPOLOGY_KEY]: 'node-a' } } });
  });
});

describe('CSI Controller', () => {
  it('creates a sparse volume of the required size, idempotently by name, on this node', async () => {
    const req = { name: 'pvc-create', capacityRange: { requiredBytes: 20 * MiB + 1 }, volumeCapabilities: [RWO()], parameters: {} };
    const v = await d.client.createVolume(req);
    expect(v.capacityBytes).toBe(21 * MiB);
    expect(v.accessibleTopology).toEqual([{ segments: { [NODE_TOPOLOGY_KEY]: 'node-a' } }]);
    const again = await d.client.createVolume(req);
    expect(again.volumeId).toBe(v.volumeId);
    const file = join(d.stateDir, 'volumes', `${v.volumeId}.img`);
    const st = await stat(file);
    expect(st.size).toBe(21 * MiB);
    expect(st.blocks * 512).toBeLessThan(MiB);
    // the same name with a size the volume does not have
    expect(await codeOf(d.client.createVolume({ ...req, capacityRange: { requiredBytes: 64 * MiB } }))).toBe(status.ALREADY_EXISTS);
  });

  it('answers bad requests with the codes the spec requires', async () => {
    const ok = { name: 'pvc-bad', volumeCapabilities: [RWO()], parameters: {} };
    expect(await codeOf(d.client.createVolume({ ...ok, name: '' }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(d.client.createVolume({ ...ok, volumeCapabilities: [] }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(d.client.createVolume({ ...ok, parameters: { colour: 'blue' } }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(d.client.createVolume({ ...ok, volumeCapabilities: [{ ...RWO(), accessMode: { mode: 'MULTI_NODE_MULTI_WRITER' } }] }))).toBe(
      status.INVALID_ARGUMENT,
    );
    expect(await codeOf(d.client.createVolume({ ...ok, volumeCapabilities: [{ block: {}, accessMode: { mode: 'SINGLE_NODE_WRITER' } }] }))).toBe(
      status.INVALID_ARGUMENT,
    );
    expect(await codeOf(d.client.createVolume({ ...ok, capacityRange: { requiredBytes: 64 * MiB, limitBytes: 32 * MiB } }))).toBe(status.OUT_OF_RANGE);
    // another node's topology
    expect(
      await codeOf(
        d.client.createVolume({ ...ok, accessibilityRequirements: { requisite: [{ segments: { [NODE_TOPOLOGY_KEY]: 'node-b' } }], preferred: [] } }),
      ),
    ).toBe(status.RESOURCE_EXHAUSTED);
    // more than the backing filesystem holds
    const fs = await statfs(d.stateDir);
    expect(await codeOf(d.client.createVolume({ ...ok, capacityRange: { requiredBytes: fs.blocks * fs.bsize * 2 } }))).toBe(status.RESOURCE_EXHAUSTED);
    expect(await codeOf(d.client.validateVolumeCapabilities('no-such-volume', [RWO()]))).toBe(status.NOT_FOUND);
    expect(await codeOf(d.client.controllerExpandVolume('no-such-volume', { requiredBytes: MiB }))).toBe(status.NOT_FOUND);
    // deleting what does not exist is done already
    expect(await codeOf(d.client.deleteVolume('no-such-volume'))).toBe(status.OK);
    expect(await codeOf(d.client.deleteVolume(''))).toBe(status.INVALID_ARGUMENT);
  });

  it('validates capabilities: confirms what it serves and says why not otherwise', async () => {
    const v = await d.client.createVolume({ name: 'pvc-validate', capacityRange: { requiredBytes: 16 * MiB }, volumeCapabilities: [RWO()], parameters: {} });
    expect((await d.client.validateVolumeCapabilities(v.volumeId, [RWO()])).confirmed?.volumeCapabilities).toHaveLength(1);
    const refused = await d.client.validateVolumeCapabilities(v.volumeId, [{ ...RWO(), accessMode: { mode: 'MULTI_NODE_READER_ONLY' } }]);
    expect(refused.confirmed).toBeFalsy();
    expect(refused.message).toMatch(/MULTI_NODE_READER_ONLY is not supported/);
  });
});

describe('CSI Node on a loop device', () => {
  it('stages (attach + mkfs + mount), publishes per target, enforces read-only, and reverses it all', async () => {
    const v = await d.client.createVolume({ name: 'pvc-node', capacityRange: { requiredBytes: 32 * MiB }, volumeCapabilities: [RWO()], parameters: {} });
    const staging = join(d.dir, 'staging', v.volumeId);
    const rw = join(d.dir, 'pods', 'a', 'mount');
    const ro = join(d.dir, 'pods', 'b', 'mount');
    const file = join(d.stateDir, 'volumes', `${v.volumeId}.img`);
    // publish before stage is a precondition failure
    expect(await codeOf(d.client.nodePublishVolume({ volumeId: v.volumeId, stagingTargetPath: staging, targetPath: rw, volumeCapability: RWO() }))).toBe(
      status.FAILED_PRECONDITION,
    );
    expect(await codeOf(d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: '', volumeCapability: RWO() }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging }))).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(d.client.nodeStageVolume({ volumeId: 'no-such-volume', stagingTargetPath: staging, volumeCapability: RWO() }))).toBe(status.NOT_FOUND);

    await d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO() });
    await d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO() });
    const device = await loopOf(file);
    expect(device).toMatch(/^\/dev\/loop\d+$/);
    expect(await mountAt(staging)).toMatchObject({ source: device, fsType: 'ext4' });
    expect(await codeOf(d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO('xfs') }))).toBe(
      status.ALREADY_EXISTS,
    );

    await d.client.nodePublishVolume({ volumeId: v.volumeId, stagingTargetPath: staging, targetPath: rw, volumeCapability: RWO() });
    await d.client.nodePublishVolume({ volumeId: v.volumeId, stagingTargetPath: staging, targetPath: rw, volumeCapability: RWO() });
    await d.client.nodePublishVolume({ volumeId: v.volumeId, stagingTargetPath: staging, targetPath: ro, volumeCapability: RWO(), readonly: true });
    expect(
      await codeOf(d.client.nodePublishVolume({ volumeId: v.volumeId, stagingTargetPath: staging, targetPath: rw, volumeCapability: RWO(), readonly: true })),
    ).toBe(status.ALREADY_EXISTS);
    await writeFile(join(rw, 'data'), 'written through the read-write target');
    expect(await readFile(join(ro, 'data'), 'utf8')).toBe('written through the read-write target');
    await expect(writeFile(join(ro, 'other'), 'x')).rejects.toMatchObject({ code: 'EROFS' });

    const stats = await d.client.nodeGetVolumeStats(v.volumeId, rw);
    const bytes = stats.find((u) => u.unit === 'BYTES');
    expect(bytes?.total).toBeGreaterThan(20 * MiB);
    expect(bytes?.used).toBeGreaterThan(0);
    expect(stats.find((u) => u.unit === 'INODES')?.used).toBeGreaterThan(0);
    expect(await codeOf(d.client.nodeGetVolumeStats(v.volumeId, join(d.dir, 'nowhere')))).toBe(status.NOT_FOUND);

    // in use: the backing file stays
    expect(await codeOf(d.client.deleteVolume(v.volumeId))).toBe(status.FAILED_PRECONDITION);
    for (const t of [rw, ro]) {
      await d.client.nodeUnpublishVolume(v.volumeId, t);
      await d.client.nodeUnpublishVolume(v.volumeId, t);
      expect(await mountAt(t)).toBeUndefined();
    }
    await d.client.nodeUnstageVolume(v.volumeId, staging);
    await d.client.nodeUnstageVolume(v.volumeId, staging);
    expect(await mountAt(staging)).toBeUndefined();
    expect(await loopOf(file)).toBe('');

    // staged again: the data is still there (formatted once)
    await d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO() });
    expect(await readFile(join(staging, 'data'), 'utf8')).toBe('written through the read-write target');
    await d.client.nodeUnstageVolume(v.volumeId, staging);

    await d.client.deleteVolume(v.volumeId);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await codeOf(d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO() }))).toBe(status.NOT_FOUND);
  });

  it('expands: the controller grows the file; xfs grows mounted, ext4 (online growth needs CAP_SYS_RESOURCE, absent here) at its next stage', async () => {
    for (const fsType of ['xfs', 'ext4']) {
      const v = await d.client.createVolume({
        name: `pvc-grow-${fsType}`,
        capacityRange: { requiredBytes: 16 * MiB },
        volumeCapabilities: [RWO(fsType)],
        parameters: {},
      });
      const staging = join(d.dir, 'staging', v.volumeId);
      const target = join(d.dir, 'pods', `grow-${fsType}`, 'mount');
      const size = async () => {
        const fs = await statfs(target);
        return fs.blocks * fs.bsize;
      };
      const publish = async () => {
        await d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO(fsType) });
        await d.client.nodePublishVolume({ volumeId: v.volumeId, stagingTargetPath: staging, targetPath: target, volumeCapability: RWO(fsType) });
      };
      const unpublish = async () => {
        await d.client.nodeUnpublishVolume(v.volumeId, target);
        await d.client.nodeUnstageVolume(v.volumeId, staging);
      };
      await publish();
      await writeFile(join(target, 'kept'), 'bytes from before the expansion');
      const before = await size();
      const grown = await d.client.controllerExpandVolume(v.volumeId, { requiredBytes: v.capacityBytes + 64 * MiB });
      expect(grown).toEqual({ capacityBytes: v.capacityBytes + 64 * MiB, nodeExpansionRequired: true });
      const expand = d.client.nodeExpandVolume({
        volumeId: v.volumeId,
        volumePath: target,
        stagingTargetPath: staging,
        capacityRange: { requiredBytes: grown.capacityBytes },
      });
      if (fsType === 'xfs') {
        expect(await expand).toBe(grown.capacityBytes);
      } else {
        expect(await codeOf(expand)).toBe(status.FAILED_PRECONDITION);
        await unpublish();
        await publish();
      }
      expect(await size()).toBeGreaterThan(before + 48 * MiB);
      expect(await readFile(join(target, 'kept'), 'utf8')).toBe('bytes from before the expansion');
      // asking for less than it holds is done already
      expect((await d.client.controllerExpandVolume(v.volumeId, { requiredBytes: MiB })).capacityBytes).toBe(grown.capacityBytes);
      await unpublish();
      await d.client.deleteVolume(v.volumeId);
    }
  });

  it('survives a driver restart: staged and published volumes are found by their mounts, not redone', async () => {
    const v = await d.client.createVolume({ name: 'pvc-restart', capacityRange: { requiredBytes: 16 * MiB }, volumeCapabilities: [RWO()], parameters: {} });
    const staging = join(d.dir, 'staging', v.volumeId);
    const target = join(d.dir, 'pods', 'restart', 'mount');
    await d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO() });
    await d.client.nodePublishVolume({ volumeId: v.volumeId, stagingTargetPath: staging, targetPath: target, volumeCapability: RWO() });
    const file = join(d.stateDir, 'volumes', `${v.volumeId}.img`);
    const device = await loopOf(file);
    d.stop();
    await d.restart();
    await d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO() });
    await d.client.nodePublishVolume({ volumeId: v.volumeId, stagingTargetPath: staging, targetPath: target, volumeCapability: RWO() });
    expect(await loopOf(file)).toBe(device);
    await d.client.nodeUnpublishVolume(v.volumeId, target);
    await d.client.nodeUnstageVolume(v.volumeId, staging);
    await d.client.deleteVolume(v.volumeId);
  });
});

describe('CSI Node when the host fails it', () => {
  it('reports a failing mkfs with its own words, leaves no loop device attached, and stages once mkfs works', async () => {
    const v = await d.client.createVolume({ name: 'pvc-mkfs', capacityRange: { requiredBytes: 16 * MiB }, volumeCapabilities: [RWO()], parameters: {} });
    const staging = join(d.dir, 'staging', v.volumeId);
    const fakeBin = join(d.dir, 'fake-bin');
    await run('mkdir', ['-p', fakeBin]);
    await writeFile(join(fakeBin, 'mkfs.ext4'), '#!/bin/sh\necho "mkfs.ext4: Input/output error while setting up superblock" >&2\nexit 1\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${fakeBin}:${path}`;
    let err: unknown;
    try {
      await d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO() });
    } catch (e) {
      err = e;
    } finally {
      process.env.PATH = path;
    }
    expect(err).toBeInstanceOf(CsiError);
    expect((err as CsiError).code).toBe(status.INTERNAL);
    expect((err as CsiError).message).toMatch(
      /^rpc error: code = Internal desc = mkfs\.ext4 .* failed: mkfs\.ext4: Input\/output error while setting up superblock/,
    );
    expect(await loopOf(join(d.stateDir, 'volumes', `${v.volumeId}.img`))).toBe('');
    expect(await mountAt(staging)).toBeUndefined();
    await d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO() });
    expect(await mountAt(staging)).toMatchObject({ fsType: 'ext4' });
    await d.client.nodeUnstageVolume(v.volumeId, staging);
    await d.client.deleteVolume(v.volumeId);
  });
});

describe('CSI dir backend', () => {
  it('serves a directory per volume through the same staging and publishing, and removes it on delete', async () => {
    const v = await d.client.createVolume({
      name: 'pvc-dir',
      capacityRange: { requiredBytes: MiB },
      volumeCapabilities: [RWO('')],
      parameters: { backend: 'dir' },
    });
    expect(v.volumeContext).toEqual({ backend: 'dir' });
    const staging = join(d.dir, 'staging', v.volumeId);
    const target = join(d.dir, 'pods', 'dir', 'mount');
    await d.client.nodeStageVolume({ volumeId: v.volumeId, stagingTargetPath: staging, volumeCapability: RWO('') });
    await d.client.nodePublishVolume({ volumeId: v.volumeId, stagingTargetPath: staging, targetPath: target, volumeCapability: RWO('') });
    await writeFile(join(target, 'f'), 'dir data');
    expect(await readFile(join(d.stateDir, 'volumes', v.volumeId, 'f'), 'utf8')).toBe('dir data');
    expect(await codeOf(d.client.deleteVolume(v.volumeId))).toBe(status.FAILED_PRECONDITION);
    expect((await d.client.controllerExpandVolume(v.volumeId, { requiredBytes: 8 * MiB })).nodeExpansionRequired).toBe(false);
    await d.client.nodeUnpublishVolume(v.volumeId, target);
    await d.client.nodeUnstageVolume(v.volumeId, staging);
    await d.client.deleteVolume(v.volumeId);
    await expect(stat(join(d.stateDir, 'volumes', v.volumeId))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
