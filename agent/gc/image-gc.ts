import type { Logger } from '../../apimachinery/index.ts';
import { sleep } from '../../apimachinery/index.ts';
import type { CriClient } from '../cri/index.ts';
import { fsStats, type FsStats } from '../stats/index.ts';

export interface ImageGCPolicy {
  /** disk usage (percent of the image filesystem) at which collection starts */
  highThresholdPercent: number;
  /** and the usage it collects down to */
  lowThresholdPercent: number;
  /** an image is never removed before it was known this long */
  minAgeMs: number;
  /** unused this long, an image goes whatever the disk usage (0: never) */
  maxAgeMs: number;
}

/** The kubelet's defaults (imageGCHighThresholdPercent 85, imageGCLowThresholdPercent 80, imageMinimumGCAge 2m). */
export const DEFAULT_IMAGE_GC: ImageGCPolicy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000, maxAgeMs: 0 };
/** How often the kubelet looks (ImageGCPeriod). */
export const IMAGE_GC_PERIOD_MS = 5 * 60_000;

export interface ImageCandidate {
  id: string;
  size: number;
  firstDetected: number;
  lastUsed: number;
}

/** Which unused images to remove to free `bytes`: least recently used first, none younger than minAge. */
export function imagesToRemove(unused: readonly ImageCandidate[], bytes: number, now: number, minAgeMs: number): ImageCandidate[] {
  const eligible = unused.filter((i) => now - i.firstDetected >= minAgeMs).sort((a, b) => a.lastUsed - b.lastUsed || a.firstDetected - b.firstDetected);
  const out: ImageCandidate[] = [];
  let freed = 0;
  for (const i of eligible) {
    if (freed >= bytes) break;
    out.push(i);
    freed += i.size;
  }
  return out;
}

type ImageRuntime = Pick<CriClient, 'listImages' | 'listContainers' | 'removeImage' | 'imageFsInfo'>;

/**
 * Image garbage collection: remembers when each image was first seen and
 * last used by a container; when the image filesystem passes the high
 * threshold, removes unused images (never those in use, pinned or the
 * sandbox image) until usage is back at the low threshold.
 */
export class ImageGC {
  #cri: ImageRuntime;
  #policy: ImageGCPolicy;
  #protected: Set<string>;
  #log: Logger;
  #now: () => number;
  #fsStats: (path: string) => Promise<FsStats>;
  #records = new Map<string, { firstDetected: number; lastUsed: number }>();
  #nodeEvent: (type: 'Warning', reason: string, message: string) => void;

  constructor(deps: {
    cri: ImageRuntime;
    policy: ImageGCPolicy;
    protectedImages: string[];
    log: Logger;
    nodeEvent: (type: 'Warning', reason: string, message: string) => void;
    now?: () => number;
    fsStats?: (path: string) => Promise<FsStats>;
  }) {
    this.#cri = deps.cri;
    this.#policy = deps.policy;
    this.#protected = new Set(deps.protectedImages);
    this.#log = deps.log;
    this.#nodeEvent = deps.nodeEvent;
    this.#now = deps.now ?? Date.now;
    this.#fsStats = deps.fsStats ?? fsStats;
  }

  /** Lists images and containers; returns the images no container uses (and that may go at all). */
  async #unusedImages(): Promise<ImageCandidate[]> {
    const now = this.#now();
    const [images, containers] = await Promise.all([this.#cri.listImages(), this.#cri.listContainers()]);
    const inUse = new Set(containers.flatMap((c) => [c.imageRef, c.image?.image].filter((x): x is string => !!x)));
    const unused: ImageCandidate[] = [];
    for (const img of images) {
      const record = this.#records.get(img.id) ?? { firstDetected: now, lastUsed: 0 };
      this.#records.set(img.id, record);
      const names = [img.id, ...img.repoTags, ...img.repoDigests];
      if (names.some((n) => inUse.has(n))) {
        record.lastUsed = now;
        continue;
      }
      if (img.pinned || names.some((n) => this.#protected.has(n))) continue;
      unused.push({ id: img.id, size: Number(img.size), ...record });
    }
    const present = new Set(images.map((i) => i.id));
    for (const id of this.#records.keys()) if (!present.has(id)) this.#records.delete(id);
    return unused;
  }

  async #remove(images: readonly ImageCandidate[]): Promise<number> {
    let freed = 0;
    for (const img of images) {
      try {
        await this.#cri.removeImage(img.id);
        this.#records.delete(img.id);
        freed += img.size;
        this.#log.info({ image: img.id, size: img.size }, 'removed unused image');
      } catch (err) {
        this.#log.warn({ image: img.id, err: (err as Error).message }, 'could not remove an unused image');
      }
    }
    return freed;
  }

  /** Removes unused images until `bytes` are free; returns what it freed. */
  async freeSpace(bytes: number): Promise<number> {
    const unused = await this.#unusedImages();
    return this.#remove(imagesToRemove(unused, bytes, this.#now(), this.#policy.minAgeMs));
  }

  /** Every unused image old enough, whatever the disk usage (the eviction manager's node-level reclaim). */
  deleteUnusedImages(): Promise<number> {
    return this.freeSpace(Number.POSITIVE_INFINITY);
  }

  /** One periodic round: images past the maximum age, then down to the low threshold if past the high one. */
  async garbageCollect(): Promise<void> {
    const now = this.#now();
    if (this.#policy.maxAgeMs > 0) {
      const stale = (await this.#unusedImages()).filter(
        (i) => now - Math.max(i.lastUsed, i.firstDetected) > this.#policy.maxAgeMs && now - i.firstDetected >= this.#policy.minAgeMs,
      );
      await this.#remove(stale);
    }
    if (this.#policy.highThresholdPercent >= 100) return;
    const fsInfo = (await this.#cri.imageFsInfo())[0];
    const mountpoint = fsInfo?.fsId?.mountpoint;
    if (!mountpoint) return;
    const fs = await this.#fsStats(mountpoint);
    if (fs.capacityBytes === 0) return;
    const usagePercent = 100 - (fs.availableBytes * 100) / fs.capacityBytes;
    if (usagePercent < this.#policy.highThresholdPercent) return;
    const toFree = Math.ceil((fs.capacityBytes * (100 - this.#policy.lowThresholdPercent)) / 100 - fs.availableBytes);
    this.#log.info(
      { usagePercent: Math.round(usagePercent), highThresholdPercent: this.#policy.highThresholdPercent, bytesToFree: toFree },
      'image filesystem past the high threshold; collecting images',
    );
    const freed = await this.freeSpace(toFree);
    if (freed < toFree)
      this.#nodeEvent(
        'Warning',
        'ImageGCFailed',
        `Failed to garbage collect required amount of images. Attempted to free ${toFree} bytes, but only found ${freed} bytes eligible to free.`,
      );
  }

  async run(signal: AbortSignal, periodMs = IMAGE_GC_PERIOD_MS): Promise<void> {
    while (!signal.aborted) {
      await sleep(periodMs, signal);
      if (signal.aborted) return;
      await this.garbageCollect().catch((err: Error) => this.#log.warn({ err: err.message }, 'image garbage collection failed'));
    }
  }
}
