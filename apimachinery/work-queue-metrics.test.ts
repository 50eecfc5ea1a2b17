import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.ts';
import { WorkQueueMetrics } from './work-queue-metrics.ts';

describe('work queue metrics', () => {
  it("tells client-go's queue series what the queue does: adds, depth, waits, work and retries", async () => {
    const registry = new Registry();
    const queue = new WorkQueue({ baseDelayMs: 1, maxDelayMs: 1, observer: new WorkQueueMetrics(registry).forQueue('widgets') });
    queue.add('a');
    queue.add('b');
    queue.add('a'); // already queued: not another add
    expect(await registry.getSingleMetricAsString('workqueue_depth')).toContain('workqueue_depth{name="widgets"} 2');
    const stop = new AbortController();
    let failedOnce = false;
    const handled: string[] = [];
    const running = queue.run(
      1,
      async (key) => {
        handled.push(key);
        if (key === 'b' && !failedOnce) {
          failedOnce = true;
          queue.addRateLimited(key);
        }
        if (handled.length === 3) stop.abort();
      },
      stop.signal,
    );
    await running;
    const text = await registry.metrics();
    expect(text).toContain('workqueue_adds_total{name="widgets"} 3');
    expect(text).toContain('workqueue_retries_total{name="widgets"} 1');
    expect(text).toContain('workqueue_queue_duration_seconds_count{name="widgets"} 3');
    expect(text).toContain('workqueue_work_duration_seconds_count{name="widgets"} 3');
    expect(text).toContain('workqueue_depth{name="widgets"} 0');
  });
});
