import type { ServerResponse } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';

/** A process's metrics registry, with the process and Node.js runtime series (heap, event loop lag, GC). */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Answers a scrape with a registry's series in the Prometheus text format (0.0.4). */
export async function serveRegistry(registry: Registry, res: ServerResponse): Promise<void> {
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType }).end(body);
}
