// What the benchmarks share: raw HTTPS requests with a kubeconfig's credentials, and percentiles.
import { request, type Agent } from 'node:https';
import type { ClientConfig } from '../apimachinery/index.ts';

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export function send(cfg: ClientConfig, agent: Agent, method: string, path: string, body?: object): Promise<{ status: number; text: string }> {
  const url = new URL(cfg.server);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, agent, ca: cfg.ca, cert: cfg.cert, key: cfg.key, headers: { 'content-type': 'application/json', accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

