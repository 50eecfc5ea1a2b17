export { ImageGC, imagesToRemove, DEFAULT_IMAGE_GC, IMAGE_GC_PERIOD_MS } from './image-gc.ts';
export type { ImageGCPolicy, ImageCandidate } from './image-gc.ts';
export { removeFinishedPodsContainers } from './dead-containers.ts';
