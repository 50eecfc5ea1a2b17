import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../../apimachinery/index.ts';
import type { PodSyncer } from './pod-sync.ts';
import { PodWorkers, type PodAdmitter } from './pod-workers.ts';
import type { StatusManager } from './status-manager.ts';

function pod(name: string, status: PodStatus = { phase: 'Pending' }): Pod {
  return { metadata: { name, namespace: 'default', uid: name }, spec: { containers: [{ name: 'c', image: 'busybox' }] }, status };
}

/** Pod workers over a syncer and status manager that only record what they are asked. */
function harness(admit?: PodAdmitter) {
  const calls: string[] = [];
  const unmountFailures = { count: 0 };
  const synced: Pod[] = [];
  const sent: { name: string; status: PodStatus }[] = [];
  const syncer = {
    sync: async (p: Pod) => {
      synced.push(p);
      calls.push(`sync ${p.metadata?.name} ${p.status?.phase}${p.status?.startTime ? ` ${p.status.startTime}` : ''}`);
      return {
        status: {
          phase: p.status?.phase === 'Failed' ? 'Failed' : 'Running',
          startTime: p.status?.startTime ?? `t${calls.length}`,
          conditions: [{ type: 'Ready', status: 'False' }],
        } as PodStatus,
      };
    },
    terminate: async (p: Pod, grace: number) => {
      calls.push(`terminate ${p.metadata?.name} ${grace}`);
      return { phase: 'Failed' } as PodStatus;
    },
    remove: async () => undefined,
    unmountVolumes: async (p: Pod) => {
      calls.push(`unmount ${p.metadata?.name}`);
      if (unmountFailures.count-- > 0) throw new Error('UnmountVolume.TearDown failed for volume "pv-1" : kubernetes.io/csi: driver name gone');
    },
  } as unknown as PodSyncer;
  const latest = new Map<string, PodStatus>();
  const status = {
    set: (p: Pod, s: PodStatus) => {
      latest.set(p.metadata?.uid ?? '', s);
      sent.push({ name: p.metadata?.name ?? '', status: s });
    },
    latest: (uid: string) => latest.get(uid),
    flushPod: async () => undefined,
    release: async (p: Pod) => void calls.push(`release ${p.metadata?.name}`),
    forget: () => undefined,
  } as unknown as StatusManager;
  const workers = new PodWorkers({ syncer, status, log: silentLogger });
  if (admit) workers.addAdmitHandler(admit);
  return { workers, calls, sent, synced, unmountFailures };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe("PodWorkers ending pods on the agent's account", () => {
  it('refuses a new pod the admitter turns down: Failed with its reason, no container started', async () => {
    const h = harness((p) =>
      p.metadata?.name === 'late' ? { admit: false, reason: 'Evicted', message: 'The node had condition: [DiskPressure]. ' } : { admit: true },
    );
    h.workers.update(pod('late'));
    await until(() => h.sent.some((s) => s.status.reason === 'Evicted' && h.calls.some((c) => c.startsWith('sync late Failed'))));
    expect(h.calls).toEqual(['terminate late 0', 'sync late Failed']);
    expect(h.sent.at(-1)?.status).toMatchObject({ phase: 'Failed', reason: 'Evicted', message: 'The node had condition: [DiskPressure]. ' });
    expect(h.workers.active()).toEqual([]);
  });

  it('ends a pod whose activeDeadlineSeconds have passed since it started: Failed/DeadlineExceeded, stopped within its grace', async () => {
    const h = harness();
    const started = new Date(Date.now() - 10_000).toISOString();
    h.workers.update({
      ...pod('slow', { phase: 'Running', startTime: started }),
      spec: { ...pod('slow').spec, activeDeadlineSeconds: 5, terminationGracePeriodSeconds: 2 },
    } as Pod);
    await until(() => h.sent.some((s) => s.status.reason === 'DeadlineExceeded') && h.calls.some((c) => c.startsWith('sync slow Failed')));
    expect(h.calls[0]).toBe('terminate slow 2');
    expect(h.sent.at(-1)?.status).toMatchObject({
      phase: 'Failed',
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
    });
  });

  it('does not refuse a pod an agent already started (adopted after a restart)', async () => {
    const h = harness(() => ({ admit: false, reason: 'Evicted', message: 'no' }));
    h.workers.update(pod('adopted', { phase: 'Running', startTime: '2026-01-01T00:00:00Z' }));
    await until(() => h.calls.length > 0);
    expect(h.calls).toEqual(['sync adopted Running 2026-01-01T00:00:00Z']);
  });

  it('evicts: Failed/Evicted first, then stopped within the grace, and resolves once the final status is sent', async () => {
    const h = harness();
    h.workers.update(pod('hog', { phase: 'Running', startTime: '2026-01-01T00:00:00Z' }));
    await until(() => h.workers.active().length === 1);
    const condition = { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'low' };
    await h.workers.end('hog', { reason: 'Evicted', message: 'low', graceSeconds: 1, condition });
    expect(h.calls.slice(-2)).toEqual(['terminate hog 1', 'sync hog Failed 2026-01-01T00:00:00Z']);
    const ended = h.sent.filter((s) => s.status.reason === 'Evicted');
    expect(ended.length).toBe(2);
    expect(ended[0]?.status.phase).toBe('Failed');
    expect(ended[1]?.status.conditions).toEqual([{ type: 'Ready', status: 'False' }, condition]);
    expect(h.workers.active()).toEqual([]);
  });
});

describe('PodWorkers status basis', () => {
  it("computes each status from the one it computed last, not from the API's lagging copy", async () => {
    const h = harness();
    h.workers.update(pod('web', { phase: 'Pending' }));
    await until(() => h.calls.length === 1);
    // the API still shows an older start time than the one the agent computed and sent
    const relabelled = pod('web', { phase: 'Running', startTime: 'stale' });
    relabelled.metadata = { ...relabelled.metadata, labels: { tier: 'web' } };
    h.workers.update(relabelled);
    await until(() => h.calls.length === 2);
    expect(h.calls).toEqual(['sync web Pending', 'sync web Running t1']);
  });
});

describe('PodWorkers updates that change only the status', () => {
  it('does not sync a pod again for its own status coming back, but does for a spec, label or deletion change', async () => {
    const h = harness();
    h.workers.update(pod('web'));
    await until(() => h.calls.length === 1);
    h.workers.update(pod('web', { phase: 'Running', startTime: 't1' }));
    await new Promise((r) => setTimeout(r, 30));
    expect(h.calls).toEqual(['sync web Pending']);
    const changed = pod('web', { phase: 'Running', startTime: 't1' });
    changed.spec = { ...changed.spec, activeDeadlineSeconds: 30 } as Pod['spec'];
    h.workers.update(changed);
    await until(() => h.calls.length === 2);
    expect(h.calls).toHaveLength(2);
  });

  it('syncs a pod with readiness gates when its status changes, keeping the conditions others set', async () => {
    const h = harness();
    const gated = (status: PodStatus) => ({ ...pod('lb', status), spec: { ...pod('lb').spec, readinessGates: [{ conditionType: 'example.com/lb' }] } }) as Pod;
    h.workers.update(gated({ phase: 'Pending' }));
    await until(() => h.calls.length === 1);
    h.workers.update(
      gated({
        phase: 'Running',
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'example.com/lb', status: 'True' },
        ],
      }),
    );
    await until(() => h.calls.length === 2);
    // the agent's own Ready stands; the gate's condition set by someone else is what the syncer sees beside it
    expect(h.synced.at(-1)?.status?.conditions).toEqual([
      { type: 'Ready', status: 'False' },
      { type: 'example.com/lb', status: 'True' },
    ]);
  });
});

describe('PodWorkers acting on a pod', () => {
  it("runs an action (a liveness kill) in the pod's own worker, never during its sync, then syncs", async () => {
    const h = harness();
    let syncing = false;
    let overlapped = false;
    const slowSync = async (p: Pod) => {
      syncing = true;
      await new Promise((r) => setTimeout(r, 30));
      syncing = false;
      h.calls.push(`sync ${p.metadata?.name}`);
      return { status: { phase: 'Running' } as PodStatus };
    };
    const workers = new PodWorkers({
      syncer: { sync: slowSync, terminate: async () => ({}) as PodStatus, remove: async () => undefined } as unknown as PodSyncer,
      status: { set: () => undefined, latest: () => undefined, flushPod: async () => undefined, forget: () => undefined } as unknown as StatusManager,
      log: silentLogger,
    });
    workers.update(pod('web'));
    await new Promise((r) => setTimeout(r, 5));
    workers.act('web', async () => {
      overlapped ||= syncing;
      h.calls.push('kill web');
    });
    workers.act('nobody', async () => void h.calls.push('kill nobody'));
    await until(() => h.calls.filter((c) => c === 'sync web').length >= 2);
    expect(h.calls).toEqual(['sync web', 'kill web', 'sync web']);
    expect(overlapped).toBe(false);
  });
});

describe('PodWorkers deleting pods', () => {
  it('stops a pod the API marked for deletion within its grace, sends its status, then lets the status manager release it', async () => {
    const h = harness();
    h.workers.update(pod('web'));
    await until(() => h.calls.includes('sync web Pending'));
    h.workers.update({ ...pod('web'), metadata: { ...pod('web').metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 7 } });
    await until(() => h.calls.includes('release web'));
    expect(h.calls.slice(-3)).toEqual(['terminate web 7', 'unmount web', 'release web']);
  });

  it('keeps a deleted pod in the API server while a volume of it will not unmount, without stopping it again', async () => {
    vi.useFakeTimers();
    try {
      const h = harness();
      h.unmountFailures.count = 1;
      h.workers.update(pod('db'));
      await vi.advanceTimersByTimeAsync(10);
      h.workers.update({ ...pod('db'), metadata: { ...pod('db').metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 3 } });
      await vi.advanceTimersByTimeAsync(10);
      expect(h.calls.slice(-2)).toEqual(['terminate db 3', 'unmount db']);
      await vi.advanceTimersByTimeAsync(900);
      expect(h.calls.at(-1)).toBe('unmount db');
      // the retry after the worker's back-off unmounts, and only then is the pod released
      await vi.advanceTimersByTimeAsync(100);
      expect(h.calls.slice(-4)).toEqual(['terminate db 3', 'unmount db', 'unmount db', 'release db']);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('PodWorkers retrying a removal that fails', () => {
  it('waits longer after each failure (1 s, 2 s, 4 s), logs the same error once, and says when it works again', async () => {
    vi.useFakeTimers();
    try {
      const lines: { level: number; msg: string }[] = [];
      const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      const removals: number[] = [];
      const syncer = {
        sync: async () => ({ status: { phase: 'Running' } as PodStatus }),
        terminate: async () => ({ phase: 'Failed' }) as PodStatus,
        remove: async () => {
          removals.push(Date.now());
          if (removals.length <= 3) throw new Error('failed to remove pod sandbox s1: remove netns: device or resource busy');
        },
      } as unknown as PodSyncer;
      const status = {
        set: () => undefined,
        latest: () => undefined,
        flushPod: async () => undefined,
        release: async () => undefined,
        forget: () => undefined,
      };
      const workers = new PodWorkers({ syncer, status: status as unknown as StatusManager, log });
      workers.remove('gone', pod('gone'));
      await vi.advanceTimersByTimeAsync(10_000);
      expect(removals.slice(1).map((t, i) => t - (removals[i] as number))).toEqual([1000, 2000, 4000]);
      const warned = lines.filter((l) => l.level === 40);
      expect(warned.map((l) => l.msg)).toEqual(['pod sync failed; retrying with back-off']);
      expect(lines.some((l) => l.msg === 'pod sync works again')).toBe(true);
      // removed: nothing is tried again
      await vi.advanceTimersByTimeAsync(60_000);
      expect(removals).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
