import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../apimachinery/index.ts';
import type { ControllerContext } from './context.ts';
import { conditionTaints, evictionTime, NodeLifecycleController, UNREACHABLE_TAINT } from './node-lifecycle.ts';
import { zoneState } from './zone-disruption.ts';

const pod = (tolerations: NonNullable<Pod['spec']>['tolerations']): Pod => ({ spec: { containers: [], tolerations } });

describe('node condition taints', () => {
  const taints = (conditions: Record<string, string>) =>
    conditionTaints(
      Object.entries(conditions).map(([type, status]) => ({ type, status })),
      't',
    ).map((x) => `${x.key}:${x.effect}`);

  it('taints not-ready and unreachable nodes for scheduling and execution, ready ones not at all', () => {
    expect(taints({ Ready: 'True', MemoryPressure: 'False' })).toEqual([]);
    expect(taints({ Ready: 'False' })).toEqual(['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
    expect(taints({ Ready: 'Unknown' })).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  });

  it('keeps pods off a node under pressure while its condition is True', () => {
    expect(taints({ Ready: 'True', MemoryPressure: 'True', DiskPressure: 'True', PIDPressure: 'True' })).toEqual([
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
    ]);
    expect(taints({ Ready: 'Unknown', MemoryPressure: 'Unknown' })).toEqual([
      'node.kubernetes.io/unreachable:NoSchedule',
      'node.kubernetes.io/unreachable:NoExecute',
    ]);
  });
});

describe('taint-based eviction', () => {
  const added = '2026-01-01T00:00:00Z';
  const taints = [{ key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: added }];

  it('evicts a pod that does not tolerate the taint at once', () => {
    const before = Date.now();
    expect(evictionTime(pod([]), taints)).toBeGreaterThanOrEqual(before);
  });

  it('waits out the shortest matching tolerationSeconds, from when the taint was added', () => {
    const p = pod([
      { key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { operator: 'Exists', tolerationSeconds: 30 },
    ]);
    expect(evictionTime(p, taints)).toBe(Date.parse(added) + 30_000);
  });

  it('never evicts a pod tolerating the taint without a time limit, nor for NoSchedule taints', () => {
    expect(evictionTime(pod([{ key: UNREACHABLE_TAINT, operator: 'Exists' }]), taints)).toBeNull();
    expect(evictionTime(pod([]), [{ key: UNREACHABLE_TAINT, effect: 'NoSchedule' }])).toBeNull();
  });
});

/** Nodes, their Leases and pods in memory, with the writes the controller makes applied to them. */
function fakeCluster(names: string[], opts: { zone?: (name: string) => string; heartbeat: string }) {
  const nodes = new Map<string, Node>();
  const leases = new Map<string, Lease>();
  for (const name of names) {
    nodes.set(name, {
      metadata: { name, labels: opts.zone ? { 'topology.kubernetes.io/zone': opts.zone(name) } : {} },
      spec: {},
      status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: opts.heartbeat }] },
    });
    leases.set(`kube-node-lease/${name}`, { metadata: { name, namespace: 'kube-node-lease' }, spec: { renewTime: opts.heartbeat } });
  }
  const pods: Pod[] = names.map((n) => ({ metadata: { name: `p-${n}`, namespace: 'default', uid: n }, spec: { nodeName: n, containers: [] }, status: {} }));
  const deleted: string[] = [];
  const informer = <T>(items: () => T[], byKey: (k: string) => T | undefined) => ({ hasSynced: async () => {}, list: items, get: byKey });
  const lists: Record<string, unknown> = {
    nodes: informer(
      () => [...nodes.values()],
      (k) => nodes.get(k),
    ),
    leases: informer(
      () => [...leases.values()],
      (k) => leases.get(k),
    ),
    pods: informer(
      () => pods.filter((p) => !deleted.includes(p.metadata?.name ?? '')),
      () => undefined,
    ),
  };
  const client = {
    patch: async (ref: { resource: string; name: string; subresource?: string }, body: { status?: Node['status']; spec?: Node['spec'] }) => {
      const node = ref.resource === 'nodes' ? nodes.get(ref.name) : undefined;
      if (!node) return;
      // a new object, as an informer would hand out after the write
      nodes.set(ref.name, {
        ...node,
        spec: body.spec ? { ...node.spec, taints: body.spec.taints ?? undefined } : node.spec,
        status: body.status ? { ...node.status, ...body.status } : node.status,
      });
    },
    delete: async (ref: { name: string }) => void deleted.push(ref.name),
  };
  const ctx = {
    client,
    informers: { for: (t: { resource: string }) => lists[t.resource] },
    events: { event: () => {} },
    log: silentLogger,
  } as unknown as ControllerContext;
  /** the agent on `name` renews its Lease */
  const renew = (name: string, at: number) => {
    const lease = leases.get(`kube-node-lease/${name}`) as Lease;
    leases.set(`kube-node-lease/${name}`, { ...lease, spec: { ...lease.spec, renewTime: new Date(at).toISOString() } });
  };
  const ready = (name: string) => nodes.get(name)?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const taints = (name: string) => (nodes.get(name)?.spec?.taints ?? []).map((t) => `${t.key.split('/')[1]}:${t.effect}`);
  return { ctx, renew, ready, taints, deleted };
}

describe('node lifecycle controller', () => {
  const grace = 40_000;
  const longAgo = '2026-01-01T00:00:00Z';

  it('gives every node a full grace period from its own first look, however old the heartbeats it finds', async () => {
    let now = Date.parse('2026-01-01T01:00:00Z'); // an hour after the last heartbeat: the control plane was down
    const c = fakeCluster(['a', 'b'], { heartbeat: longAgo });
    const controller = new NodeLifecycleController(c.ctx, { gracePeriodMs: grace, monitorPeriodMs: 5000, now: () => now });
    for (let t = 0; t <= 35_000; t += 5000) {
      now += 5000;
      if (t === 30_000) c.renew('a', now); // a's agent is alive; b's is not
      await controller.monitor();
    }
    expect(c.ready('a')).toBe('True');
    expect(c.ready('b')).toBe('True');
    for (let t = 0; t < 40_000; t += 5000) {
      now += 5000;
      c.renew('a', now);
      await controller.monitor();
    }
    expect(c.ready('a')).toBe('True');
    expect(c.taints('a')).toEqual([]);
    expect(c.ready('b')).toBe('Unknown');
    expect(c.taints('b')).toEqual(['unreachable:NoSchedule', 'unreachable:NoExecute']);
    expect(c.deleted).toEqual(['p-b']);
  });

  const silence = async (c: ReturnType<typeof fakeCluster>, controller: NodeLifecycleController, alive: string[], clock: { now: number }, ms: number) => {
    for (let t = 0; t < ms; t += 5000) {
      clock.now += 5000;
      for (const n of alive) c.renew(n, clock.now);
      await controller.monitor();
    }
  };

  it('evicts nothing and takes NoExecute taints off when every node of the cluster goes at once (full disruption)', async () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const c = fakeCluster(['a', 'b', 'c'], { heartbeat: longAgo });
    const controller = new NodeLifecycleController(c.ctx, { gracePeriodMs: grace, monitorPeriodMs: 5000, now: () => clock.now });
    await silence(c, controller, ['b', 'c'], clock, 50_000);
    expect(c.taints('a')).toEqual(['unreachable:NoSchedule', 'unreachable:NoExecute']);
    await silence(c, controller, [], clock, 50_000);
    for (const n of ['a', 'b', 'c']) {
      expect(c.ready(n)).toBe('Unknown');
      expect(c.taints(n)).toEqual(['unreachable:NoSchedule']);
    }
    expect(c.deleted).toEqual(['p-a']);
  });

  it('stops evicting in a small zone where most nodes went (partial disruption), and keeps evicting one node in a healthy zone', async () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const zone = (n: string) => (n.startsWith('x') ? 'zone-x' : 'zone-y');
    const c = fakeCluster(['x1', 'x2', 'x3', 'x4', 'y1', 'y2'], { heartbeat: longAgo, zone });
    const controller = new NodeLifecycleController(c.ctx, { gracePeriodMs: grace, monitorPeriodMs: 5000, now: () => clock.now });
    await silence(c, controller, ['x4', 'y1'], clock, 60_000);
    for (const n of ['x1', 'x2', 'x3']) expect(c.taints(n)).toEqual(['unreachable:NoSchedule']);
    expect(c.taints('y2')).toEqual(['unreachable:NoSchedule', 'unreachable:NoExecute']);
    expect(c.deleted).toEqual(['p-y2']);
  });

  it('taints nodes of a healthy zone for eviction one per ten seconds (--node-eviction-rate 0.1)', async () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const c = fakeCluster(names, { heartbeat: longAgo });
    const controller = new NodeLifecycleController(c.ctx, { gracePeriodMs: grace, monitorPeriodMs: 5000, now: () => clock.now });
    await silence(c, controller, names.slice(2), clock, 50_000);
    const tainted = () => ['n0', 'n1'].filter((n) => c.taints(n).includes('unreachable:NoExecute'));
    expect(tainted()).toHaveLength(1);
    await silence(c, controller, names.slice(2), clock, 10_000);
    expect(tainted()).toHaveLength(2);
  });
});

describe('zones', () => {
  it('are fully disrupted with no Ready node, partly with most (at least three) not Ready', () => {
    expect(zoneState(['Unknown', 'False'], 0.55)).toBe('FullDisruption');
    expect(zoneState(['True', 'Unknown', 'Unknown'], 0.55)).toBe('Normal');
    expect(zoneState(['True', 'Unknown', 'Unknown', 'False'], 0.55)).toBe('PartialDisruption');
    expect(zoneState(['True', 'True', 'Unknown', 'Unknown', 'False'], 0.55)).toBe('PartialDisruption');
    expect(zoneState(['True', 'True', 'True', 'Unknown', 'Unknown', 'False'], 0.55)).toBe('Normal');
  });
});
