import { stat } from 'node:fs/promises';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodTerminal, rfc3339, type EventRecorder, type Informer, type Logger } from '../apimachinery/index.ts';
import type { AgentConfig } from './config.ts';
import { DEFAULT_SANDBOX_IMAGE, type CriClient } from './cri/index.ts';
import { EVICTED, EvictionManager, parseThresholds, type PressureCondition, type Signal } from './eviction/index.ts';
import { ImageGC, removeFinishedPodsContainers } from './gc/index.ts';
import { PRESSURE_CONDITIONS, type NodeStatusReporter } from './node/index.ts';
import type { PodWorkers } from './pods/index.ts';
import { podUsage, type NodeStats, type PodStatsSource, type PodUsage } from './stats/index.ts';

export interface NodePressureDeps {
  config: AgentConfig;
  cri: CriClient;
  nodeName: string;
  rootDir: string;
  /** the filesystem images live on (rootDir's own, or one of their own) */
  imagefs: string;
  workers: PodWorkers;
  pods: Informer<Pod>;
  reporter: NodeStatusReporter;
  events: EventRecorder;
  podEvent: (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => void;
  nodeStats: () => Promise<NodeStats>;
  podStats: PodStatsSource;
  containerNames: () => Promise<Map<string, string>>;
  /** told of each eviction's signal (the evictions metric) */
  evicted?: (signal: Signal) => void;
  log: Logger;
}

/**
 * Eviction under node pressure, with dead containers and unused images
 * reclaimed first, and image GC on its own period. The eviction manager
 * admits new pods through the workers, ends pods through them, and sends
 * the pressure conditions through the node status reporter.
 */
export async function startNodePressure(d: NodePressureDeps, signal: AbortSignal): Promise<EvictionManager> {
  const { config, cri, log, nodeName } = d;
  const nodeRef = { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, uid: nodeName } };
  const nodeEvent = (type: 'Normal' | 'Warning', reason: string, message: string) => d.events.event(nodeRef, type, reason, message);
  const dedicatedImageFs = (await stat(d.imagefs)).dev !== (await stat(d.rootDir)).dev;
  const imageGC = new ImageGC({
    cri,
    policy: {
      highThresholdPercent: config.imageGCHighThresholdPercent,
      lowThresholdPercent: config.imageGCLowThresholdPercent,
      minAgeMs: config.imageMinimumGCAgeMs,
      maxAgeMs: config.imageMaximumGCAgeMs,
    },
    protectedImages: [DEFAULT_SANDBOX_IMAGE],
    log: log.child({ component: 'image-gc' }),
    nodeEvent,
  });
  void imageGC.run(signal);
  const containers = async () => {
    const pods = new Map(d.pods.list().map((p) => [p.metadata?.uid ?? '', p]));
    const finished = (uid: string) => {
      const pod = pods.get(uid);
      return !pod || isPodTerminal(pod);
    };
    await removeFinishedPodsContainers(cri, { nodeName, finished, log });
  };
  const images = () => imageGC.deleteUnusedImages().then(() => undefined);
  // with a filesystem of their own, images are reclaimed for imagefs only
  const diskReclaim = { nodefs: dedicatedImageFs ? [] : [containers, images], imagefs: [containers, images] };
  const reclaim: Partial<Record<Signal, Array<() => Promise<void>>>> = {
    'nodefs.available': diskReclaim.nodefs,
    'nodefs.inodesFree': diskReclaim.nodefs,
    'imagefs.available': diskReclaim.imagefs,
    'imagefs.inodesFree': diskReclaim.imagefs,
  };
  const podUsages = async (pods: Pod[], withDisk: boolean): Promise<Map<string, PodUsage>> => {
    const names = await d.containerNames();
    const out = new Map<string, PodUsage>();
    for (const pod of pods) {
      const usage = await podUsage(d.podStats, pod, names, withDisk);
      if (usage) out.set(pod.metadata?.uid ?? '', usage);
    }
    return out;
  };
  let previous: ReadonlySet<PressureCondition> = new Set();
  const eviction = new EvictionManager({
    thresholds: parseThresholds(config),
    pressureTransitionPeriodMs: config.evictionPressureTransitionPeriodMs,
    maxPodGracePeriodSeconds: config.evictionMaxPodGracePeriod,
    readNodeStats: d.nodeStats,
    activePods: () => d.workers.active(),
    podUsages,
    reclaim,
    evict: (pod, e) => {
      d.podEvent(pod, 'Warning', EVICTED, e.message);
      d.evicted?.(e.signal);
      const condition = { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: e.message, lastTransitionTime: rfc3339() };
      return d.workers.end(pod.metadata?.uid ?? '', { reason: EVICTED, message: e.message, graceSeconds: e.graceSeconds, condition });
    },
    conditionsChanged: (active) => {
      for (const [type, info] of Object.entries(PRESSURE_CONDITIONS)) {
        if (active.has(type as PressureCondition) !== previous.has(type as PressureCondition)) {
          const reason = active.has(type as PressureCondition) ? info.events.bad : info.events.ok;
          nodeEvent('Normal', reason, `Node ${nodeName} status is now: ${reason}`);
        }
      }
      previous = active;
      void d.reporter.pressureChanged(active).catch((err: Error) => log.warn({ err: err.message }, 'node status update failed'));
    },
    nodeEvent,
    log: log.child({ component: 'eviction' }),
  });
  d.workers.addAdmitHandler((pod) => {
    const verdict = eviction.admit(pod);
    if (!verdict.admit) d.podEvent(pod, 'Warning', verdict.reason, verdict.message);
    return verdict;
  });
  return eviction;
}
