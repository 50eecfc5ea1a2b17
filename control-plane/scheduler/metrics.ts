import { Counter, Gauge, Histogram, exponentialBuckets, type Registry } from 'prom-client';

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

/** Pods waiting in each of the scheduling queue's parts. */
export interface PendingPods {
  active: number;
  backoff: number;
  unschedulable: number;
}

/**
 * The scheduler's series under kube-scheduler's names: attempts and their
 * duration by result and profile, pods pending by queue, and the time from
 * a pod first queued to its placement by attempts. Made once per process;
 * each leadership term's scheduler reports through it and shows its queue.
 */
export class SchedulerMetrics {
  readonly #attempts: Counter<'result' | 'profile'>;
  readonly #attemptDuration: Histogram<'result' | 'profile'>;
  readonly #sli: Histogram<'attempts'>;
  #pending: (() => PendingPods) | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#attempts = new Counter({
      name: 'scheduler_schedule_attempts_total',
      help: 'Attempts to schedule a pod, by result (scheduled, unschedulable, error) and profile.',
      labelNames: ['result', 'profile'],
      registers,
    });
    this.#attemptDuration = new Histogram({
      name: 'scheduler_scheduling_attempt_duration_seconds',
      help: 'How long one scheduling attempt took (filtering, scoring, assuming), by result and profile.',
      labelNames: ['result', 'profile'],
      buckets: exponentialBuckets(0.001, 2, 15),
      registers,
    });
    this.#sli = new Histogram({
      name: 'scheduler_pod_scheduling_sli_duration_seconds',
      help: 'From a pod first entering the scheduling queue to its placement on a node, by the attempts it took.',
      labelNames: ['attempts'],
      buckets: exponentialBuckets(0.01, 2, 20),
      registers,
    });
    const pending = () => this.#pending?.();
    new Gauge({
      name: 'scheduler_pending_pods',
      help: 'Pods waiting to be scheduled, by queue (active, backoff, unschedulable, gated).',
      labelNames: ['queue'],
      registers,
      collect() {
        const now = pending() ?? { active: 0, backoff: 0, unschedulable: 0 };
        for (const [queue, n] of Object.entries({ ...now, gated: 0 })) this.set({ queue }, n);
      },
    });
  }

  attempted(result: AttemptResult, profile: string, seconds: number): void {
    this.#attempts.inc({ result, profile });
    this.#attemptDuration.observe({ result, profile }, seconds);
  }

  placed(attempts: number, secondsSinceQueued: number): void {
    this.#sli.observe({ attempts: String(attempts) }, secondsSinceQueued);
  }

  /** The queue whose pods scheduler_pending_pods counts (the running scheduler's). */
  showQueue(pending: () => PendingPods): void {
    this.#pending = pending;
  }
}
