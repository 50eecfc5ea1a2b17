import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../apimachinery/index.ts';
import type { Container, Image } from '../cri/index.ts';
import { ImageGC, imagesToRemove } from './image-gc.ts';

const MB = 1e6;

describe('imagesToRemove', () => {
  const images = [
    { id: 'old', size: 10 * MB, firstDetected: 0, lastUsed: 100 },
    { id: 'older', size: 10 * MB, firstDetected: 0, lastUsed: 50 },
    { id: 'new', size: 50 * MB, firstDetected: 9_000, lastUsed: 0 },
  ];

  it('takes the least recently used first and stops once enough is free', () => {
    expect(imagesToRemove(images, 5 * MB, 10_000, 0).map((i) => i.id)).toEqual(['new']);
    expect(imagesToRemove(images, 15 * MB, 10_000, 5_000).map((i) => i.id)).toEqual(['older', 'old']);
  });

  it('spares images younger than the minimum age', () => {
    expect(imagesToRemove(images, Number.POSITIVE_INFINITY, 10_000, 5_000).map((i) => i.id)).toEqual(['older', 'old']);
  });
});

describe('ImageGC', () => {
  function fakeRuntime(images: Image[], containers: Partial<Container>[], fs: { capacityBytes: number; availableBytes: number }) {
    const removed: string[] = [];
    const events: string[] = [];
    const gc = new ImageGC({
      cri: {
        listImages: async () => images.filter((i) => !removed.includes(i.id)),
        listContainers: async () => containers as Container[],
        removeImage: async (id: string) => {
          removed.push(id);
        },
        imageFsInfo: async () => [{ timestamp: 0, fsId: { mountpoint: '/images' }, usedBytes: { value: 0 }, inodesUsed: { value: 0 } }],
      },
      policy: { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 0, maxAgeMs: 0 },
      protectedImages: ['registry.k8s.io/pause:3.10'],
      log: silentLogger,
      nodeEvent: (_t, reason, message) => events.push(`${reason}: ${message}`),
      fsStats: async () => ({ ...fs, inodes: 0, inodesFree: 0 }),
    });
    return { gc, removed, events };
  }
  const image = (id: string, tag: string, size = 100 * MB, pinned = false): Image => ({
    id,
    repoTags: [tag],
    repoDigests: [],
    size,
    pinned,
    uid: null,
    username: '',
  });
  const images = [
    image('sha256:busy', 'docker.io/library/busybox:latest'),
    image('sha256:idle', 'docker.io/skiff/idle:1'),
    image('sha256:pause', 'registry.k8s.io/pause:3.10'),
    image('sha256:pinned', 'x/pinned:1', 100 * MB, true),
  ];

  it('does nothing below the high threshold', async () => {
    const r = fakeRuntime(images, [], { capacityBytes: 1000 * MB, availableBytes: 500 * MB });
    await r.gc.garbageCollect();
    expect(r.removed).toEqual([]);
  });

  it('past the high threshold removes unused images, never one in use, pinned or the sandbox image', async () => {
    const r = fakeRuntime(images, [{ id: 'c1', imageRef: 'sha256:busy', image: { image: 'docker.io/library/busybox:latest' } }], {
      capacityBytes: 1000 * MB,
      availableBytes: 100 * MB,
    });
    await r.gc.garbageCollect();
    expect(r.removed).toEqual(['sha256:idle']);
    // 100 MB of the 100 MB needed to get back to 80% were found: no complaint
    expect(r.events).toEqual([]);
  });

  it('says so when it cannot free enough', async () => {
    const r = fakeRuntime(images, [], { capacityBytes: 10_000 * MB, availableBytes: 100 * MB });
    await r.gc.garbageCollect();
    expect(r.removed.sort()).toEqual(['sha256:busy', 'sha256:idle']);
    expect(r.events).toEqual([
      'ImageGCFailed: Failed to garbage collect required amount of images. Attempted to free 1900000000 bytes, but only found 200000000 bytes eligible to free.',
    ]);
  });
});
