import type { Pod } from 'kubernetes-types/core/v1.js';
import { MEMORY_PRESSURE_TAINT, qosClass, sleep, tolerates, type Logger } from '../../apimachinery/index.ts';
import type { NodeStats, PodUsage } from '../stats/index.ts';
import { EVICTED, conditionMessage, evictionMessage, isCriticalPod } from './message.ts';
import { rankForEviction } from './rank.ts';
import {
  SIGNAL_RESOURCE,
  byEvictionPriority,
  firstObservedAt,
  gracePeriodsMet,
  observe,
  pressureConditions,
  thresholdsMet,
  type PressureCondition,
} from './signals.ts';
import { formatThreshold, type Signal, type Threshold } from './thresholds.ts';

/** A hard threshold leaves a pod this long to stop (the kubelet's immediate eviction). */
const HARD_EVICTION_GRACE_SECONDS = 1;
/** The kubelet's eviction monitoring period: pods are ranked and evicted at most this often unless a threshold is newly crossed. */
export const MONITORING_PERIOD_MS = 10_000;
/** Node-level figures are cheap: they are read this often, so a crossed threshold is acted on at once. */
export const FAST_CHECK_MS = 1_000;

export interface EvictionDeps {
  thresholds: readonly Threshold[];
  pressureTransitionPeriodMs: number;
  maxPodGracePeriodSeconds: number;
  readNodeStats: () => Promise<NodeStats>;
  /** the pods bound to this node that have not finished */
  activePods: () => Pod[];
  /** usage of each of these pods by uid (disk only when asked: it walks directories) */
  podUsages: (pods: Pod[], withDisk: boolean) => Promise<Map<string, PodUsage>>;
  /** node-level reclaim tried before any pod is evicted (dead containers, unused images) */
  reclaim: Partial<Record<Signal, Array<() => Promise<void>>>>;
  /** stops the pod within the grace period and marks it Failed/Evicted; resolves once it is stopped */
  evict: (pod: Pod, e: { graceSeconds: number; message: string; signal: Signal }) => Promise<void>;
  /** the node's pressure conditions changed */
  conditionsChanged: (active: ReadonlySet<PressureCondition>) => void;
  nodeEvent: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
  log: Logger;
  now?: () => number;
}

export type Admission = { admit: true } | { admit: false; reason: string; message: string };

/**
 * The kubelet's node-pressure eviction: observe the signals, set the
 * MemoryPressure / DiskPressure / PIDPressure conditions, reclaim at node
 * level first, then evict one pod at a time in the kubelet's ranking until
 * the thresholds (plus their minimum reclaim) are clear.
 */
export class EvictionManager {
  #d: EvictionDeps;
  #now: () => number;
  #met: Threshold[] = [];
  #firstObservedAt = new Map<Threshold, number>();
  #conditionsObservedAt = new Map<PressureCondition, number>();
  #conditions: ReadonlySet<PressureCondition> = new Set();

  constructor(deps: EvictionDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** The node conditions under pressure now. */
  get conditions(): ReadonlySet<PressureCondition> {
    return this.#conditions;
  }

  /** Whether a new pod may start here, as the kubelet's eviction admission decides under pressure. */
  admit(pod: Pod): Admission {
    const conditions = [...this.#conditions];
    if (conditions.length === 0 || isCriticalPod(pod)) return { admit: true };
    if (conditions.length === 1 && conditions[0] === 'MemoryPressure') {
      if (qosClass(pod.spec ?? { containers: [] }) !== 'BestEffort') return { admit: true };
      if ((pod.spec?.tolerations ?? []).some((t) => tolerates(t, { key: MEMORY_PRESSURE_TAINT, effect: 'NoSchedule' }))) return { admit: true };
    }
    return { admit: false, reason: EVICTED, message: conditionMessage(conditions) };
  }

  /** One round (on figures just read, or read now): returns the pod it evicted, if any. */
  async synchronize(stats?: NodeStats): Promise<Pod | undefined> {
    const { thresholds, log } = this.#d;
    if (thresholds.length === 0) return undefined;
    const now = this.#now();
    const obs = observe(stats ?? (await this.#d.readNodeStats()));
    // a threshold crossed before stays met until its minimum reclaim is free as well
    const met = [...new Set([...thresholdsMet(thresholds, obs, false), ...thresholdsMet(this.#met, obs, true)])];
    const pressure = pressureConditions(met, this.#conditionsObservedAt, now, this.#d.pressureTransitionPeriodMs);
    this.#conditionsObservedAt = pressure.lastObservedAt;
    this.#firstObservedAt = firstObservedAt(met, this.#firstObservedAt, now);
    this.#met = met;
    if ([...pressure.active].sort().join() !== [...this.#conditions].sort().join()) {
      log.info({ conditions: [...pressure.active] }, 'node pressure conditions changed');
      this.#conditions = pressure.active;
      this.#d.conditionsChanged(pressure.active);
    }
    const due = gracePeriodsMet(this.#firstObservedAt, now).sort(byEvictionPriority);
    const threshold = due[0];
    if (!threshold) return undefined;
    const resource = SIGNAL_RESOURCE[threshold.signal];
    log.warn({ threshold: formatThreshold(threshold), available: obs[threshold.signal]?.available }, 'eviction threshold met');
    this.#d.nodeEvent('Warning', 'EvictionThresholdMet', `Attempting to reclaim ${resource}`);
    if (await this.#reclaimNodeLevel(threshold.signal)) return undefined;

    const pods = this.#d.activePods();
    if (pods.length === 0) {
      log.warn({ resource }, 'eviction threshold met but no pod to evict');
      return undefined;
    }
    const usages = await this.#d.podUsages(pods, resource === 'ephemeral-storage' || resource === 'inodes');
    const ranked = rankForEviction(
      pods.map((pod) => ({ pod, usage: usages.get(pod.metadata?.uid ?? '') })),
      resource,
    );
    for (const { pod, usage } of ranked) {
      if (isCriticalPod(pod)) continue;
      const graceSeconds = threshold.hard
        ? HARD_EVICTION_GRACE_SECONDS
        : Math.min(this.#d.maxPodGracePeriodSeconds, pod.spec?.terminationGracePeriodSeconds ?? 30);
      const message = evictionMessage(resource, pod, usage, due, obs);
      log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, resource, graceSeconds }, 'evicting pod');
      await this.#d.evict(pod, { graceSeconds, message, signal: threshold.signal });
      return pod;
    }
    log.warn({ resource }, 'eviction threshold met but every pod is critical');
    return undefined;
  }

  /** Dead containers and unused images first; true when that alone cleared every threshold. */
  async #reclaimNodeLevel(signal: Signal): Promise<boolean> {
    const funcs = this.#d.reclaim[signal] ?? [];
    if (funcs.length === 0) return false;
    for (const f of funcs) await f().catch((err: Error) => this.#d.log.warn({ signal, err: err.message }, 'node-level reclaim failed'));
    const obs = observe(await this.#d.readNodeStats());
    return thresholdsMet(this.#d.thresholds, obs, false).length === 0;
  }

  /**
   * Full rounds every monitoring period; in between, a cheap look at the
   * node's figures starts a round at once when the set of crossed thresholds
   * changes, and every second while one stays crossed (each round waits for
   * its eviction to finish, so the next one measures what that freed).
   */
  async run(signal: AbortSignal): Promise<void> {
    let lastRound = 0;
    let lastMet = '';
    while (!signal.aborted) {
      try {
        const stats = await this.#d.readNodeStats();
        const metNow = thresholdsMet(this.#d.thresholds, observe(stats), false).map(formatThreshold).join();
        if (metNow !== lastMet || this.#now() - lastRound >= MONITORING_PERIOD_MS || this.#met.length > 0) {
          lastRound = this.#now();
          await this.synchronize(stats);
          lastMet = this.#met.map(formatThreshold).join();
        }
      } catch (err) {
        this.#d.log.warn({ err: (err as Error).message }, 'eviction round failed');
      }
      await sleep(FAST_CHECK_MS, signal);
    }
  }
}
