// What the benchmarks share: raw HTTPS requests with a kubeconfig's credentials, and percentiles.
import type { Agent } from 'node:https';
import type { ClientConfig } from '../apimachinery/index.ts';
import { rawRequest } from '../lab/testbed/index.ts';

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** What Prometheus 2.x asks for when it scrapes (OpenMetrics first). */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** A scrape of `path` as Prometheus sends it. */
export function scrape(cfg: ClientConfig, agent: Agent, path: string): Promise<{ status: number; text: string }> {
  return rawRequest(cfg, { method: 'GET', path, agent, accept: PROMETHEUS_ACCEPT });
}

export function send(cfg: ClientConfig, agent: Agent, method: string, path: string, body?: object): Promise<{ status: number; text: string }> {
  return rawRequest(cfg, { method, path, body, agent });
}
