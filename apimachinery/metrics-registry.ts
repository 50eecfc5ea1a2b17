import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { serveExposition } from './metrics-exposition.ts';

/** A process's metrics registry, with the process and Node.js runtime series (heap, event loop lag, GC). */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Answers a scrape with a registry's series, in the text format (0.0.4) or OpenMetrics as the scraper prefers. */
export async function serveRegistry(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  serveExposition(req, res, await registry.metrics());
}
