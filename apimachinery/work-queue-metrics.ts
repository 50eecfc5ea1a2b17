import { Counter, Gauge, Histogram, exponentialBuckets, type Registry } from 'prom-client';

/** What a work queue tells of itself (one queue's series). */
export interface QueueObserver {
  added(depth: number): void;
  /** a key left the queue for a worker after waiting `seconds`; `depth` keys are still queued */
  started(seconds: number, depth: number): void;
  /** a worker was done with a key after `seconds` */
  done(seconds: number): void;
  retried(): void;
}

/** client-go's queue buckets: 10 ns up to 100 s, ×10 each. */
const QUEUE_BUCKETS = exponentialBuckets(1e-8, 10, 10);

/**
 * The work queue series of a process under client-go's names
 * (workqueue_depth, _adds_total, _queue_duration_seconds,
 * _work_duration_seconds, _retries_total), labelled by queue name.
 */
export class WorkQueueMetrics {
  readonly #depth: Gauge<'name'>;
  readonly #adds: Counter<'name'>;
  readonly #queueDuration: Histogram<'name'>;
  readonly #workDuration: Histogram<'name'>;
  readonly #retries: Counter<'name'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['name'];
    this.#depth = new Gauge({ name: 'workqueue_depth', help: 'Keys waiting in the queue.', labelNames, registers });
    this.#adds = new Counter({ name: 'workqueue_adds_total', help: 'Keys added to the queue.', labelNames, registers });
    this.#queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long a key waited in the queue before a worker took it.',
      labelNames,
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.#workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long a worker took over a key.',
      labelNames,
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.#retries = new Counter({ name: 'workqueue_retries_total', help: 'Keys queued again after a failure.', labelNames, registers });
  }

  forQueue(name: string): QueueObserver {
    const labels = { name };
    this.#depth.set(labels, 0);
    return {
      added: (depth) => {
        this.#adds.inc(labels);
        this.#depth.set(labels, depth);
      },
      started: (seconds, depth) => {
        this.#queueDuration.observe(labels, seconds);
        this.#depth.set(labels, depth);
      },
      done: (seconds) => this.#workDuration.observe(labels, seconds),
      retried: () => this.#retries.inc(labels),
    };
  }
}
