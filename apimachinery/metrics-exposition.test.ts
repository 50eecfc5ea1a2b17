import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { prefersOpenMetrics, toOpenMetrics } from './metrics-exposition.ts';

// what Prometheus 2.x sends when it scrapes
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('metrics exposition', () => {
  it('answers in OpenMetrics only where the scraper prefers a version of it we write', () => {
    expect(prefersOpenMetrics(PROMETHEUS_ACCEPT)).toBe(true);
    expect(prefersOpenMetrics('application/openmetrics-text')).toBe(true);
    expect(prefersOpenMetrics(undefined)).toBe(false);
    expect(prefersOpenMetrics('*/*')).toBe(false);
    expect(prefersOpenMetrics('text/plain;version=0.0.4')).toBe(false);
    expect(prefersOpenMetrics('text/plain;version=0.0.4,application/openmetrics-text;version=1.0.0;q=0.5')).toBe(false);
    expect(prefersOpenMetrics('application/openmetrics-text;version=2.0.0,text/plain;q=0.5')).toBe(false);
    expect(prefersOpenMetrics('application/openmetrics-text;q=0')).toBe(false);
  });

  it('writes the same series under the same names, counters as OpenMetrics types them, and ends with EOF', async () => {
    const registry = new Registry();
    const registers = [registry];
    new Counter({ name: 'apiserver_request_total', help: 'Requests "served".', labelNames: ['code'], registers }).inc({ code: '200' }, 3);
    new Counter({ name: 'kubelet_evictions', help: 'Evictions.', labelNames: ['eviction_signal'], registers }).inc({ eviction_signal: 'memory.available' });
    new Gauge({ name: 'kubelet_running_pods', help: 'Pods running.', registers }).set(2);
    new Histogram({ name: 'workqueue_work_duration_seconds', help: 'Work.', buckets: [0.1, 1], registers }).observe(0.5);
    const text = await registry.metrics();
    const open = toOpenMetrics(text);

    expect(open.endsWith('\n# EOF\n')).toBe(true);
    expect(open).not.toMatch(/\n\n/);
    expect(open).toContain('# HELP apiserver_request Requests \\"served\\".\n# TYPE apiserver_request counter\napiserver_request_total{code="200"} 3\n');
    expect(open).toContain('# TYPE kubelet_evictions unknown\nkubelet_evictions{eviction_signal="memory.available"} 1\n');
    expect(open).toContain('# TYPE kubelet_running_pods gauge\nkubelet_running_pods 2\n');
    expect(open).toContain('workqueue_work_duration_seconds_bucket{le="+Inf"} 1\n');
    // every sample line of one format is a sample line of the other
    const samples = (s: string) => s.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples(open)).toEqual(samples(text));
  });
});
