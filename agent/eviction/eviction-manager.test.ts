import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../apimachinery/index.ts';
import type { NodeStats, PodUsage } from '../stats/index.ts';
import { EvictionManager, type EvictionDeps } from './eviction-manager.ts';
import { parseThresholds } from './thresholds.ts';

const Mi = 2 ** 20;
const GiB = 2 ** 30;

function stats(o: { memoryAvailable?: number; nodefsAvailable?: number; processes?: number }): NodeStats {
  const fs = (available: number) => ({ capacityBytes: 100 * GiB, availableBytes: available, inodes: 1e6, inodesFree: 9e5 });
  return {
    memory: { capacityBytes: 8 * GiB, availableBytes: o.memoryAvailable ?? 4 * GiB, workingSetBytes: 0 },
    nodefs: fs(o.nodefsAvailable ?? 50 * GiB),
    imagefs: fs(50 * GiB),
    rlimit: { maxPID: 32768, processes: o.processes ?? 100 },
  };
}

function pod(
  name: string,
  o: { memoryRequest?: string; priority?: number; tolerations?: object[]; annotations?: Record<string, string>; grace?: number } = {},
): Pod {
  const resources = o.memoryRequest ? { requests: { memory: o.memoryRequest } } : {};
  return {
    metadata: { name, namespace: 'default', uid: name, annotations: o.annotations },
    spec: { priority: o.priority, terminationGracePeriodSeconds: o.grace ?? 30, tolerations: o.tolerations, containers: [{ name: 'c', resources }] },
  } as Pod;
}

function harness(settings: Partial<Parameters<typeof parseThresholds>[0]>, pods: Pod[], usage: Record<string, number>) {
  const clock = { now: 0 };
  const world = { stats: stats({}) };
  const evicted: { name: string; graceSeconds: number; message: string }[] = [];
  const conditionChanges: string[][] = [];
  const events: string[] = [];
  const reclaimed: string[] = [];
  const deps: EvictionDeps = {
    thresholds: parseThresholds({ evictionHard: {}, evictionSoft: {}, evictionSoftGracePeriod: {}, evictionMinimumReclaim: {}, ...settings }),
    pressureTransitionPeriodMs: 30_000,
    maxPodGracePeriodSeconds: 10,
    readNodeStats: async () => world.stats,
    activePods: () => pods.filter((p) => !evicted.some((e) => e.name === p.metadata?.name)),
    podUsages: async (ps) =>
      new Map(
        ps.map((p): [string, PodUsage] => [
          p.metadata?.uid ?? '',
          {
            memoryWorkingSet: (usage[p.metadata?.name ?? ''] ?? 0) * Mi,
            processes: 1,
            containers: new Map([['c', (usage[p.metadata?.name ?? ''] ?? 0) * Mi]]),
            ephemeral: { bytes: (usage[p.metadata?.name ?? ''] ?? 0) * Mi, inodes: 1 },
          },
        ]),
      ),
    reclaim: {},
    evict: async (p, e) => {
      evicted.push({ name: p.metadata?.name ?? '', ...e });
    },
    conditionsChanged: (active) => conditionChanges.push([...active]),
    nodeEvent: (_type, reason, message) => events.push(`${reason}: ${message}`),
    log: silentLogger,
    now: () => clock.now,
  };
  return { manager: new EvictionManager(deps), deps, clock, world, evicted, conditionChanges, events, reclaimed };
}

describe('EvictionManager', () => {
  it('does nothing while every signal is above its threshold', async () => {
    const h = harness({ evictionHard: { 'memory.available': '100Mi' } }, [pod('a')], { a: 10 });
    expect(await h.manager.synchronize()).toBeUndefined();
    expect(h.evicted).toEqual([]);
    expect([...h.manager.conditions]).toEqual([]);
  });

  it('under memory pressure sets MemoryPressure and evicts one pod, the one most above its requests, with a 1 s grace', async () => {
    const pods = [pod('guaranteed', { memoryRequest: '200Mi' }), pod('burstable', { memoryRequest: '10Mi' }), pod('besteffort')];
    const h = harness({ evictionHard: { 'memory.available': '100Mi' } }, pods, { guaranteed: 150, burstable: 40, besteffort: 300 });
    h.world.stats = stats({ memoryAvailable: 60 * Mi });
    const victim = await h.manager.synchronize();
    expect(victim?.metadata?.name).toBe('besteffort');
    expect(h.evicted).toEqual([
      {
        name: 'besteffort',
        graceSeconds: 1,
        signal: 'memory.available',
        message:
          'The node was low on resource: memory. Threshold quantity: 100Mi, available: 60Mi. Container c was using 300Mi, request is 0, has larger consumption of memory. ',
      },
    ]);
    expect(h.conditionChanges).toEqual([['MemoryPressure']]);
    expect(h.events).toEqual(['EvictionThresholdMet: Attempting to reclaim memory']);
    // the next round, still short: the next in line
    expect((await h.manager.synchronize())?.metadata?.name).toBe('burstable');
  });

  it('never evicts a critical pod', async () => {
    const h = harness(
      { evictionHard: { 'memory.available': '100Mi' } },
      [pod('static', { annotations: { 'kubernetes.io/config.source': 'file' } }), pod('user', { memoryRequest: '1Gi' })],
      { static: 900, user: 10 },
    );
    h.world.stats = stats({ memoryAvailable: 10 * Mi });
    expect((await h.manager.synchronize())?.metadata?.name).toBe('user');
  });

  it('reclaims at node level first and evicts nobody when that was enough', async () => {
    const h = harness({ evictionHard: { 'nodefs.available': '10Gi' } }, [pod('writer')], { writer: 5000 });
    h.world.stats = stats({ nodefsAvailable: 5 * GiB });
    h.deps.reclaim['nodefs.available'] = [
      async () => {
        h.reclaimed.push('images');
        h.world.stats = stats({ nodefsAvailable: 20 * GiB });
      },
    ];
    expect(await h.manager.synchronize()).toBeUndefined();
    expect(h.reclaimed).toEqual(['images']);
    expect([...h.manager.conditions]).toEqual(['DiskPressure']);
    expect(h.evicted).toEqual([]);
  });

  it("waits out a soft threshold's grace period and then gives the pod at most evictionMaxPodGracePeriod", async () => {
    const h = harness({ evictionSoft: { 'pid.available': '1000' }, evictionSoftGracePeriod: { 'pid.available': '30s' } }, [pod('forker', { grace: 60 })], {
      forker: 1,
    });
    h.world.stats = stats({ processes: 32000 });
    expect(await h.manager.synchronize()).toBeUndefined();
    expect([...h.manager.conditions]).toEqual(['PIDPressure']);
    h.clock.now = 30_000;
    expect((await h.manager.synchronize())?.metadata?.name).toBe('forker');
    expect(h.evicted[0]?.graceSeconds).toBe(10);
    expect(h.evicted[0]?.message).toBe('The node was low on resource: pids. Threshold quantity: 1k, available: 768. ');
  });

  it('keeps the condition for the transition period once the signal recovers', async () => {
    const h = harness({ evictionHard: { 'memory.available': '100Mi' } }, [], {});
    h.world.stats = stats({ memoryAvailable: 10 * Mi });
    await h.manager.synchronize();
    h.world.stats = stats({});
    h.clock.now = 20_000;
    await h.manager.synchronize();
    expect([...h.manager.conditions]).toEqual(['MemoryPressure']);
    h.clock.now = 31_000;
    await h.manager.synchronize();
    expect([...h.manager.conditions]).toEqual([]);
    expect(h.conditionChanges).toEqual([['MemoryPressure'], []]);
  });

  it('admits pods under pressure as the kubelet does', async () => {
    const h = harness({ evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10Gi' } }, [], {});
    h.world.stats = stats({ memoryAvailable: 10 * Mi });
    await h.manager.synchronize();
    expect(h.manager.admit(pod('besteffort'))).toEqual({ admit: false, reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
    expect(h.manager.admit(pod('burstable', { memoryRequest: '1Mi' }))).toEqual({ admit: true });
    expect(
      h.manager.admit(pod('tolerant', { tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }] })),
    ).toEqual({ admit: true });
    h.world.stats = stats({ memoryAvailable: 10 * Mi, nodefsAvailable: GiB });
    await h.manager.synchronize();
    expect(h.manager.admit(pod('burstable', { memoryRequest: '1Mi' }))).toMatchObject({
      admit: false,
      message: 'The node had condition: [MemoryPressure DiskPressure]. ',
    });
    expect(h.manager.admit(pod('critical', { priority: 2_000_000_000 }))).toEqual({ admit: true });
  });
});
