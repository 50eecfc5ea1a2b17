// Plugins about room on the node: NodeResourcesFit (filter, and the
// LeastAllocated or MostAllocated score), NodeResourcesBalancedAllocation and
// ImageLocality.
import { registryHost } from '../../../apimachinery/index.ts';
import type { NodeInfo } from '../cache.ts';
import { MAX_NODE_SCORE, type FilterPlugin, type ScorePlugin } from '../framework.ts';

export const nodeResourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter(state, node) {
    const { requests } = state;
    if (node.requested.pods + 1 > node.allocatable.pods) return { reason: 'Too many pods' };
    if (requests.milliCpu > 0 && node.requested.milliCpu + requests.milliCpu > node.allocatable.milliCpu) return { reason: 'Insufficient cpu' };
    if (requests.memory > 0 && node.requested.memory + requests.memory > node.allocatable.memory) return { reason: 'Insufficient memory' };
    return null;
  },
};

/** cpu and memory in use on the node with the pod added, as fractions of allocatable (non-zero requests, as scoring uses). */
function fractions(state: Parameters<ScorePlugin['score']>[0], node: NodeInfo): [number, number] {
  const cpu = node.allocatable.milliCpu > 0 ? (node.nonZeroRequested.milliCpu + state.nonZeroRequests.milliCpu) / node.allocatable.milliCpu : 1;
  const mem = node.allocatable.memory > 0 ? (node.nonZeroRequested.memory + state.nonZeroRequests.memory) / node.allocatable.memory : 1;
  return [Math.min(cpu, 1), Math.min(mem, 1)];
}

/** The default: nodes with more room left score higher, which spreads pods. */
export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesFit',
  score(state, node) {
    const [cpu, mem] = fractions(state, node);
    return ((1 - cpu + (1 - mem)) * MAX_NODE_SCORE) / 2;
  },
};

/** The bin-packing strategy: fuller nodes score higher. */
export const mostAllocated: ScorePlugin = {
  name: 'NodeResourcesFit',
  score(state, node) {
    const [cpu, mem] = fractions(state, node);
    return ((cpu + mem) * MAX_NODE_SCORE) / 2;
  },
};

/** Nodes whose cpu and memory would be used in like proportion score higher. */
export const balancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  score(state, node) {
    const [cpu, mem] = fractions(state, node);
    const std = Math.abs(cpu - mem) / 2;
    return (1 - std) * MAX_NODE_SCORE;
  },
};

const MB = 1024 * 1024;
const MIN_IMAGE_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** Normalises an image reference the way node status lists names (docker.io/library/busybox:latest). */
function imageName(image: string): string {
  const name = registryHost(image) ? image : `docker.io/${image.includes('/') ? image : `library/${image}`}`;
  return /[:@][^/]*$/.test(name) ? name : `${name}:latest`;
}

/** Nodes that already have the pod's images score higher, weighted by how widely each image is spread. */
export const imageLocality: ScorePlugin = {
  name: 'ImageLocality',
  preScore(state, nodes) {
    const images = (state.pod.spec?.containers ?? []).map((c) => imageName(c.image ?? ''));
    const spread = new Map(images.map((i) => [i, nodes.filter((n) => n.images.has(i)).length / Math.max(nodes.length, 1)]));
    state.data.set('ImageLocality', spread);
    return [...spread.values()].some((s) => s > 0) ? undefined : 'skip';
  },
  score(state, node) {
    const spread = state.data.get('ImageLocality') as Map<string, number>;
    let sum = 0;
    for (const [image, share] of spread) sum += (node.images.get(image) ?? 0) * share;
    const max = MAX_CONTAINER_THRESHOLD * Math.max(spread.size, 1);
    const clamped = Math.min(Math.max(sum, MIN_IMAGE_THRESHOLD), max);
    return ((clamped - MIN_IMAGE_THRESHOLD) * MAX_NODE_SCORE) / (max - MIN_IMAGE_THRESHOLD);
  },
};
