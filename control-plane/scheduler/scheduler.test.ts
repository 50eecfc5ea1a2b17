import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { SchedulerCache } from './cache.ts';
import { profilesFromConfig } from './config.ts';
import { pickPreemption } from './preemption.ts';
import { SchedulingQueue } from './queue.ts';
import { bestNode, cycleState, defaultProfile, feasibleNodesToFind, findFeasibleNodes, unschedulableMessage } from './scheduler.ts';

const node = (
  name: string,
  opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: NonNullable<Node['spec']>['taints'] } = {},
): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
  spec: { taints: opts.taints },
  status: { allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});

let seq = 0;
const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}, meta: Partial<NonNullable<Pod['metadata']>> = {}): Pod => ({
  metadata: { name: `p${++seq}`, namespace: 'default', uid: `uid-${seq}`, ...meta },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});
const cpu = (c: string) => ({ containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: c } } }] });

function cluster(nodes: Node[], pods: [Pod, string][] = []): SchedulerCache {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.setNode(n);
  for (const [p, n] of pods) cache.updatePod({ ...p, spec: { ...p.spec, containers: p.spec?.containers ?? [], nodeName: n } });
  return cache;
}

/** Where the profile (the default one unless given) puts the pod, or the FailedScheduling message. */
function place(cache: SchedulerCache, p: Pod, profile = defaultProfile()): string {
  const state = cycleState(p, cache);
  const filters = profile.filters.filter((f) => f.preFilter?.(state) !== 'skip');
  const { feasible, rejected } = findFeasibleNodes(state, filters, [...cache.nodes.values()], 0);
  if (!feasible.length)
    return unschedulableMessage(
      cache.nodes.size,
      rejected.map((r) => r.rejection),
      '-',
    );
  const chosen = bestNode(state, profile, feasible).name;
  cache.assume(p, chosen);
  return chosen;
}

describe('filters', () => {
  it('fits requests against what nodes have left, in kube-scheduler words', () => {
    const cache = cluster([node('small', { cpu: '2' }), node('big', { cpu: '4' })], [[pod(cpu('1')), 'big']]);
    expect(place(cache, pod(cpu('2500m')))).toBe('big');
    expect(place(cache, pod(cpu('1')))).toBe('small');
    expect(place(cache, pod(cpu('2')))).toBe('0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: -.');
    expect(place(cluster([node('full', { pods: '1' })], [[pod(), 'full']]), pod())).toContain('1 Too many pods');
  });

  it('honours taints, tolerations, unschedulable nodes and not-ready nodes', () => {
    const tainted = node('tainted', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    const cordoned = { ...node('cordoned'), spec: { unschedulable: true } };
    const starting = { ...node('starting'), status: { ...node('starting').status, conditions: [{ type: 'Ready', status: 'False' }] } };
    expect(place(cluster([tainted, cordoned, starting]), pod())).toBe(
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: -.',
    );
    expect(place(cluster([tainted, cordoned]), pod({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }))).toBe(
      'tainted',
    );
  });

  it('matches nodeSelector and required node affinity (In, NotIn, Gt)', () => {
    const cache = cluster([node('a', { labels: { disk: 'ssd', gen: '3' } }), node('b', { labels: { disk: 'hdd', gen: '5' } })]);
    expect(place(cache, pod({ nodeSelector: { disk: 'ssd' } }))).toBe('a');
    const affinity = (key: string, operator: string, values: string[]) => ({
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key, operator, values }] }] } },
      },
    });
    expect(place(cache, pod(affinity('disk', 'NotIn', ['ssd'])))).toBe('b');
    expect(place(cache, pod(affinity('gen', 'Gt', ['4'])))).toBe('b');
    expect(place(cache, pod(affinity('disk', 'In', ['nvme'])))).toContain("2 node(s) didn't match Pod's node affinity/selector");
  });

  it('keeps host ports apart', () => {
    const withPort = () => pod({ containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }] }] });
    const cache = cluster([node('a'), node('b')], [[withPort(), 'a']]);
    expect(place(cache, withPort())).toBe('b');
    expect(place(cache, withPort())).toContain("2 node(s) didn't have free ports for the requested pod ports");
  });

  it('enforces hard topology spread across zones', () => {
    const zone = (z: string) => ({ 'topology.kubernetes.io/zone': z });
    const web = { labels: { app: 'web' } };
    const cache = cluster(
      [node('a1', { labels: zone('a') }), node('a2', { labels: zone('a') }), node('b1', { labels: zone('b') })],
      [
        [pod({}, web), 'a1'],
        [pod({}, web), 'a2'],
      ],
    );
    const spread = {
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } },
      ],
    };
    expect(place(cache, pod(spread, web))).toBe('b1');
    // zone a has 2, zone b 1: a third in a would make the skew 2
    expect(place(cache, pod(spread, web))).toBe('b1');
    expect(place(cluster([node('x')]), pod({ topologySpreadConstraints: spread.topologySpreadConstraints }, web))).toContain(
      "1 node(s) didn't match pod topology spread constraints (missing required label)",
    );
  });

  it("applies required pod affinity and anti-affinity, including existing pods' anti-affinity", () => {
    const term = (app: string) => [{ labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' }];
    const db = pod({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: term('web') } } }, { labels: { app: 'db' } });
    const cache = cluster(
      [node('a'), node('b'), node('c')],
      [
        [db, 'a'],
        [pod({}, { labels: { app: 'web' } }), 'b'],
      ],
    );
    expect(place(cache, pod({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: term('web') } } }))).not.toBe('b');
    expect(place(cache, pod({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: term('db') } } }))).toBe('a');
    // a web pod may not join the db pod that refuses web pods
    expect(place(cluster([node('a')], [[db, 'a']]), pod({}, { labels: { app: 'web' } }))).toContain(
      "1 node(s) didn't satisfy existing pods anti-affinity rules",
    );
    // the first pod of a self-affine group may go anywhere
    expect(
      place(
        cluster([node('a')]),
        pod({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: term('solo') } } }, { labels: { app: 'solo' } }),
      ),
    ).toBe('a');
  });
});

describe('scores', () => {
  it('spreads the replicas of one controller over identical nodes', () => {
    const cache = cluster([node('a'), node('b'), node('c')]);
    const owner = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-1', controller: true }] };
    const placed = [1, 2, 3, 4, 5, 6].map(() => place(cache, pod({}, owner)));
    expect(placed.filter((n) => n === 'a')).toHaveLength(2);
    expect(placed.filter((n) => n === 'b')).toHaveLength(2);
    expect(placed.filter((n) => n === 'c')).toHaveLength(2);
  });

  it('prefers nodes by preferred affinity and away from PreferNoSchedule taints', () => {
    const cache = cluster([
      node('plain'),
      node('preferred', { labels: { disk: 'ssd' } }),
      node('soft-tainted', { labels: { disk: 'ssd' }, taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }),
    ]);
    expect(
      place(
        cache,
        pod({
          affinity: {
            nodeAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
              ],
            },
          },
        }),
      ),
    ).toBe('preferred');
  });

  it('looks at all of a small cluster and about 42% of 1,000 nodes', () => {
    expect(feasibleNodesToFind(50)).toBe(50);
    expect(feasibleNodesToFind(1000)).toBe(420);
    expect(feasibleNodesToFind(200)).toBe(100);
  });
});

describe('preemption', () => {
  it('picks the node whose lower-priority victims cost least, and none for equal priority', () => {
    const low = pod({ ...cpu('3'), priority: 10 });
    const lowest = pod({ ...cpu('3'), priority: 1 });
    const cache = cluster(
      [node('a'), node('b')],
      [
        [low, 'a'],
        [lowest, 'b'],
      ],
    );
    const preempt = (p: Pod, c: SchedulerCache) => {
      const state = cycleState(p, c);
      const filters = defaultProfile().filters.filter((f) => f.preFilter?.(state) !== 'skip');
      return pickPreemption(state, filters, findFeasibleNodes(state, filters, [...c.nodes.values()], 0).rejected);
    };
    const choice = preempt(pod({ ...cpu('2'), priority: 100 }), cache);
    expect(choice?.node.name).toBe('b');
    expect(choice?.victims.map((v) => v.metadata?.name)).toEqual([lowest.metadata?.name]);
    expect(preempt(pod({ ...cpu('2'), priority: 10 }), cluster([node('a')], [[pod({ ...cpu('3'), priority: 10 }), 'a']]))).toBeNull();
  });
});

describe('scheduling queue', () => {
  it('pops by priority, then first come first served, and retries unschedulable pods when the cluster changes', async () => {
    const q = new SchedulingQueue();
    const signal = new AbortController().signal;
    q.add('ns/low', 0);
    q.add('ns/high', 100);
    q.add('ns/low2', 0);
    expect([await q.pop(signal), await q.pop(signal), await q.pop(signal)]).toEqual(['ns/high', 'ns/low', 'ns/low2']);
    q.unschedulable('ns/low', 0);
    expect(q.size).toBe(1);
    q.add('ns/other', 0);
    expect(await q.pop(signal)).toBe('ns/other');
    q.moveAll();
    // back in after its 1 s back-off
    expect(await q.pop(signal)).toBe('ns/low');
    q.close();
  });

  it('shows how many pods wait in each part, and how many attempts a placed pod took', async () => {
    const q = new SchedulingQueue();
    const signal = new AbortController().signal;
    q.add('ns/a', 0);
    q.add('ns/b', 0);
    expect(q.pending()).toEqual({ active: 2, backoff: 0, unschedulable: 0 });
    expect(await q.pop(signal)).toBe('ns/a');
    q.unschedulable('ns/a', 0);
    expect(q.pending()).toEqual({ active: 1, backoff: 0, unschedulable: 1 });
    q.moveAll();
    expect(q.pending()).toEqual({ active: 1, backoff: 1, unschedulable: 0 });
    expect(await q.pop(signal)).toBe('ns/b');
    expect(q.done('ns/b')).toMatchObject({ attempts: 1 });
    expect(await q.pop(signal)).toBe('ns/a');
    const placed = q.done('ns/a');
    expect(placed.attempts).toBe(2);
    // from its first arrival, through its back-off
    expect(placed.queuedMs).toBeGreaterThanOrEqual(900);
    q.close();
  });
});

describe('profiles from a KubeSchedulerConfiguration', () => {
  const config = `
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  plugins:
    score:
      disabled: [{name: PodTopologySpread}, {name: NodeResourcesBalancedAllocation}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
`;

  it('builds one profile per schedulerName, and MostAllocated packs pods', () => {
    const [plain, packer] = profilesFromConfig(config);
    expect(plain?.schedulerName).toBe('default-scheduler');
    expect(packer?.scores.map((s) => s.plugin.name)).not.toContain('PodTopologySpread');
    const cache = cluster([node('busy'), node('idle')], [[pod(cpu('2')), 'busy']]);
    expect(place(cache, pod(cpu('1')), packer)).toBe('busy');
    expect(place(cluster([node('busy'), node('idle')], [[pod(cpu('2')), 'busy']]), pod(cpu('1')), plain)).toBe('idle');
  });

  it('rejects unknown plugins and strategies', () => {
    expect(() => profilesFromConfig(config.replace('PodTopologySpread', 'Telepathy'))).toThrow('unknown scheduler plugin Telepathy');
    expect(() => profilesFromConfig(config.replace('MostAllocated', 'RequestedToCapacityRatio'))).toThrow(
      'scoringStrategy RequestedToCapacityRatio is not supported',
    );
  });
});
