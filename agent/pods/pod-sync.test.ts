import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../apimachinery/index.ts';
import { FakeRuntime } from '../cri/fake-runtime.ts';
import type { PodCgroups } from '../stats/index.ts';
import { PodSyncer, etcHosts, newPodMemory } from './pod-sync.ts';

const pod = (spec: Partial<PodSpec>, name = 'web'): Pod => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Always', ...spec },
  status: { phase: 'Pending' },
});

/** A pod syncer over `runtime`, with its pods and logs in `dir`, recording its Events as "type reason: message". */
function fakeSyncer(o: { dir: string; runtime: FakeRuntime; events: string[]; now?: () => number; runtimeHandler?: (pod: Pod) => Promise<string> }): PodSyncer {
  return new PodSyncer({
    cri: o.runtime,
    env: {
      nodeName: 'n1',
      hostIP: '192.0.2.1',
      clusterDNS: [],
      clusterDomain: 'cluster.local',
      hostDns: { servers: [], searches: [], options: [] },
      podLogsDir: join(o.dir, 'logs'),
    },
    runtimeName: 'fake',
    podsDir: join(o.dir, 'pods'),
    events: () => (type, reason, message) => void o.events.push(`${type} ${reason}: ${message}`),
    objects: { configMap: async () => undefined, secret: async () => undefined },
    cgroups: { ensure: async () => {}, parentOf: () => '/kubepods/pod', remove: async () => {} } as unknown as PodCgroups,
    now: o.now,
    runtimeHandler: o.runtimeHandler,
    log: silentLogger,
  });
}

describe('PodSyncer against a fake runtime', () => {
  let dir = '';
  let runtime: FakeRuntime;
  let events: string[];
  let syncer: PodSyncer;
  let clock = 0;

  beforeEach(async () => {
    clock = 1_000_000;
    dir = await mkdtemp(join(tmpdir(), 'sk-podsync-'));
    runtime = new FakeRuntime({ now: () => clock });
    events = [];
    syncer = fakeSyncer({ dir, runtime, events, now: () => clock });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes the sandbox, pulls a missing image, starts the container and reports it running', async () => {
    const p = pod({});
    const result = await syncer.sync(p, newPodMemory());
    expect(runtime.calls.filter((c) => !c.startsWith('stop'))).toEqual(['runPodSandbox web', 'pullImage busybox', 'createContainer c', 'startContainer c']);
    expect(result.status.phase).toBe('Running');
    expect(result.status.podIP).toBe('10.9.0.1');
    expect(result.status.containerStatuses?.[0]).toMatchObject({ name: 'c', ready: true, restartCount: 0, state: { running: {} } });
    expect(events.filter((e) => e.startsWith('Normal')).map((e) => e.split(':')[0])).toEqual([
      'Normal Pulling',
      'Normal Pulled',
      'Normal Created',
      'Normal Started',
    ]);
    // nothing more to do: a second sync changes nothing in the runtime
    const before = runtime.calls.length;
    await syncer.sync(p, newPodMemory());
    expect(runtime.calls.length).toBe(before);
  });

  it("runs the sandbox under its RuntimeClass's handler, and fails it with the kubelet's words, backing off, for a class not known", async () => {
    const handlers: Record<string, string> = { fast: 'crun' };
    const withClasses = fakeSyncer({
      dir,
      runtime,
      events,
      now: () => clock,
      runtimeHandler: async (p) => {
        const name = p.spec?.runtimeClassName;
        if (!name) return '';
        const handler = handlers[name];
        if (handler === undefined) throw new Error(`RuntimeClass "${name}" not found`);
        return handler;
      },
    });
    await withClasses.sync(pod({ runtimeClassName: 'fast' }, 'quick'), newPodMemory());
    await withClasses.sync(pod({}, 'plain'), newPodMemory());
    const missing = await withClasses.sync(pod({ runtimeClassName: 'gone' }, 'lost'), newPodMemory());
    expect(runtime.calls.filter((c) => c.startsWith('runPodSandbox'))).toEqual(['runPodSandbox quick handler=crun', 'runPodSandbox plain']);
    expect(events).toContain('Warning FailedCreatePodSandBox: Failed to create pod sandbox: RuntimeClass "gone" not found');
    expect(missing.requeue?.reason).toBe('FailedCreatePodSandBox');
  });

  it('runs init containers one at a time before the app containers', async () => {
    runtime.images.add('busybox');
    const p = pod({
      initContainers: [
        { name: 'first', image: 'busybox' },
        { name: 'second', image: 'busybox' },
      ],
    });
    const memory = newPodMemory();
    await syncer.sync(p, memory);
    expect(runtime.created()).toEqual(['first#0']);
    runtime.exit('first', 0);
    await syncer.sync(p, memory);
    expect(runtime.created()).toEqual(['first#0', 'second#0']);
    runtime.exit('second', 0);
    const result = await syncer.sync(p, memory);
    expect(runtime.created()).toEqual(['first#0', 'second#0', 'c#0']);
    expect(result.status.initContainerStatuses?.map((s) => s.state?.terminated?.reason)).toEqual(['Completed', 'Completed']);
  });

  it('restarts a crashed container, then holds it in CrashLoopBackOff and asks to be synced when the back-off ends', async () => {
    runtime.images.add('busybox');
    const p = pod({});
    const memory = newPodMemory();
    await syncer.sync(p, memory);
    runtime.exit('c', 1);
    const restarted = await syncer.sync(p, memory);
    const creates = () => runtime.calls.filter((c) => c === 'createContainer c').length;
    expect(creates()).toBe(2);
    expect(restarted.status.containerStatuses?.[0]).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 1 } } });
    // a second later (the runtime's stamps follow the clock) it crashes again
    clock += 1_000;
    runtime.exit('c', 1);
    const held = await syncer.sync(p, memory);
    expect(creates()).toBe(2);
    expect(held.status.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(held.requeue).toMatchObject({ reason: 'ContainerBackOff' });
    expect(held.requeue?.afterMs).toBe(10_000);
    // before the back-off ends the container stays down; once it has, it starts again
    clock += 9_000;
    expect((await syncer.sync(p, memory)).requeue).toMatchObject({ reason: 'ContainerBackOff', afterMs: 1_000 });
    expect(creates()).toBe(2);
    clock += 1_000;
    const again = await syncer.sync(p, memory);
    expect(creates()).toBe(3);
    expect(again.status.containerStatuses?.[0]).toMatchObject({ restartCount: 2 });
  });

  it('reports an image that cannot be pulled: ErrImagePull, then ImagePullBackOff, with an event and a requeue', async () => {
    runtime.unpullable.add('nowhere:1');
    const p = pod({ containers: [{ name: 'c', image: 'nowhere:1' }] });
    const memory = newPodMemory();
    const first = await syncer.sync(p, memory);
    expect(first.status.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ErrImagePull');
    expect(first.requeue).toMatchObject({ reason: 'ContainerBackOff' });
    const second = await syncer.sync(p, memory);
    expect(second.status.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ImagePullBackOff');
    expect(events.some((e) => e.startsWith('Warning Failed: Failed to pull image "nowhere:1"'))).toBe(true);
    expect(runtime.created()).toEqual([]);
  });
});

describe('the pod hosts file', () => {
  it("names the pod's address with its hostname and FQDN, and adds its host aliases", () => {
    const p = {
      metadata: { name: 'web-0', namespace: 'shop' },
      spec: { hostname: 'web-0', subdomain: 'web', containers: [], hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }] },
    } as Pod;
    expect(etcHosts(p, '10.244.0.5', 'cluster.local').split('\n').slice(-5)).toEqual([
      '10.244.0.5\tweb-0.web.shop.svc.cluster.local\tweb-0',
      '',
      '# Entries added by HostAliases.',
      '10.1.2.3\tfoo.local\tbar.local',
      '',
    ]);
  });
});

describe('PodSyncer removing a pod whose sandbox the runtime will not remove', () => {
  it('says why in one Event, fails the removal each time, and removes the pod once the runtime lets it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-podsync-rm-'));
    try {
      const runtime = new FakeRuntime();
      const events: string[] = [];
      const syncer = fakeSyncer({ dir, runtime, events });
      const p = pod({});
      await syncer.sync(p, newPodMemory());
      const busy = 'remove netns: unlinkat /var/run/netns/cni-1: device or resource busy';
      runtime.sandboxRemovalError = busy;
      for (let i = 0; i < 3; i++) await expect(syncer.remove('uid-web', p)).rejects.toThrow(busy);
      const failures = events.filter((e) => e.startsWith('Warning FailedKillPod'));
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatch(/error killing pod: failed to remove pod sandbox \S+: remove netns: unlinkat .* device or resource busy/);
      runtime.sandboxRemovalError = undefined;
      await syncer.remove('uid-web', p);
      expect(runtime.sandboxes.size).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
