import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { conditionMessage, evictionMessage, isCriticalPod } from './message.ts';
import type { Threshold } from './thresholds.ts';

const Mi = 2 ** 20;
const memory: Threshold = { signal: 'memory.available', value: { quantity: 100 * Mi }, gracePeriodMs: 0, hard: true };

describe('eviction messages', () => {
  it('names the resource, the threshold, what was left and the containers over their requests', () => {
    const pod = { spec: { containers: [{ name: 'hog' }, { name: 'quiet', resources: { requests: { memory: '64Mi' } } }] } } as Pod;
    const usage = {
      memoryWorkingSet: 600 * Mi,
      processes: 2,
      containers: new Map([
        ['hog', 512 * Mi],
        ['quiet', 10 * Mi],
      ]),
    };
    expect(evictionMessage('memory', pod, usage, [memory], { 'memory.available': { available: 50 * Mi, capacity: 1024 * Mi } })).toBe(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container hog was using 512Mi, request is 0, has larger consumption of memory. ',
    );
  });

  it('words pid and disk evictions and admission refusals as the kubelet does', () => {
    const pids: Threshold = { signal: 'pid.available', value: { quantity: 1000 }, gracePeriodMs: 0, hard: true };
    expect(evictionMessage('pids', {} as Pod, undefined, [pids], { 'pid.available': { available: 800, capacity: 32768 } })).toBe(
      'The node was low on resource: pids. Threshold quantity: 1k, available: 800. ',
    );
    const disk: Threshold = { signal: 'nodefs.available', value: { percentage: 0.5 }, gracePeriodMs: 0, hard: true };
    expect(evictionMessage('ephemeral-storage', {} as Pod, undefined, [disk], { 'nodefs.available': { available: 10 * Mi, capacity: 128 * Mi } })).toBe(
      'The node was low on resource: ephemeral-storage. Threshold quantity: 64Mi, available: 10Mi. ',
    );
    expect(conditionMessage(['MemoryPressure', 'DiskPressure'])).toBe('The node had condition: [MemoryPressure DiskPressure]. ');
  });

  it('protects static, mirror and system-critical pods', () => {
    expect(isCriticalPod({ metadata: { annotations: { 'kubernetes.io/config.source': 'file' } } } as Pod)).toBe(true);
    expect(isCriticalPod({ metadata: { annotations: { 'kubernetes.io/config.mirror': 'abc' } } } as Pod)).toBe(true);
    expect(isCriticalPod({ spec: { priority: 2_000_001_000, containers: [] } } as Pod)).toBe(true);
    expect(isCriticalPod({ spec: { priority: 1000, containers: [] } } as Pod)).toBe(false);
  });
});
