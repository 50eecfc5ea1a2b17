// What the benchmarks share: raw HTTPS requests with a kubeconfig's credentials, and percentiles.
import type { Agent } from 'node:https';
import type { ClientConfig } from '../apimachinery/index.ts';
import { rawRequest } from '../lab/testbed/index.ts';

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export function send(cfg: ClientConfig, agent: Agent, method: string, path: string, body?: object): Promise<{ status: number; text: string }> {
  return rawRequest(cfg, { method, path, body, agent });
}
