// Many watches opened and closed at random against a real API server while
// objects change: clients that vanish mid-event, 1 s timeouts that land on a
// bookmark tick, streaming lists. The server must stay up and keep nothing
// behind: no open watch, no timer, no listener warning.
import { request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ApiServer, ClusterPki } from '../../control-plane/index.ts';
import { startInProcessServer, type InProcessServer } from '../harness/in-process-server.ts';

interface Client {
  pki: ClusterPki;
  port: number;
}

/** Opens a watch; `closeAfterMs` drops the connection then (else it runs until the server ends it). Resolves with the lines it read. */
function watch(c: Client, query: string, closeAfterMs?: number): Promise<string[]> {
  return new Promise((resolve) => {
    const lines: string[] = [];
    const req = request(
      {
        host: '127.0.0.1',
        port: c.port,
        path: `/api/v1/namespaces/default/configmaps?watch=true&${query}`,
        ca: c.pki.ca.cert,
        cert: c.pki.controllerManager.cert,
        key: c.pki.controllerManager.key,
        agent: false,
        headers: { connection: 'close' },
      },
      (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          const cut = buf.lastIndexOf('\n') + 1;
          lines.push(...buf.slice(0, cut).split('\n').filter(Boolean));
          buf = buf.slice(cut);
        });
        res.on('end', () => resolve(lines));
        res.on('error', () => resolve(lines));
        res.on('close', () => resolve(lines));
      },
    );
    req.on('error', () => resolve(lines));
    if (closeAfterMs !== undefined) setTimeout(() => req.destroy(), closeAfterMs);
    req.end();
  });
}

/** Writes a ConfigMap: POST to make it, PUT to change it. */
function put(c: Client, name: string, value: string, method = 'PUT'): Promise<number> {
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { value } });
  const path = `/api/v1/namespaces/default/configmaps${method === 'PUT' ? `/${name}` : ''}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: c.port,
        method,
        path,
        ca: c.pki.ca.cert,
        cert: c.pki.controllerManager.cert,
        key: c.pki.controllerManager.key,
        agent: false,
        headers: { 'content-type': 'application/json', connection: 'close' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('watches opened and closed at random', () => {
  let dir: string;
  let running: InProcessServer | undefined;
  let server: ApiServer;
  let client: Client;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => void warnings.push(w);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sk-wfuzz-'));
    // a bookmark every second, so 1 s timeouts fall on bookmark ticks
    running = await startInProcessServer(dir, { watchBookmarkIntervalMs: 1000 });
    server = running.server;
    client = { pki: running.pki, port: server.port };
    process.on('warning', onWarning);
  });

  afterAll(async () => {
    process.off('warning', onWarning);
    await running?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stays up and leaves no watch, timer or listener behind', async () => {
    for (let i = 0; i < 5; i++) expect(await put(client, `cm-${i}`, 'start', 'POST')).toBe(201);
    // warm up whatever the server makes once (caches, connections), then count
    await watch(client, 'timeoutSeconds=1');
    await new Promise((r) => setTimeout(r, 200));
    const baseline = timers();

    const kinds = fc.constantFrom(
      'timeoutSeconds=1&allowWatchBookmarks=true',
      'timeoutSeconds=1&allowWatchBookmarks=1',
      'timeoutSeconds=2&allowWatchBookmarks=true',
      'allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1',
      'resourceVersion=0&timeoutSeconds=1',
      'allowWatchBookmarks=true&timeoutSeconds=30',
    );
    const plans = fc.sample(
      fc.record({ query: kinds, closeAfterMs: fc.option(fc.integer({ min: 0, max: 1500 }), { nil: undefined }), startMs: fc.integer({ min: 0, max: 3000 }) }),
      { numRuns: 120, seed: 21 },
    );
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing) await put(client, `cm-${n % 5}`, String(n++));
      return n;
    })();
    const results = await Promise.all(
      plans.map(async (p) => {
        await new Promise((r) => setTimeout(r, p.startMs));
        // a watch that would run 30 s is always cut by its client
        return watch(client, p.query, p.closeAfterMs ?? (p.query.includes('=30') ? 1200 : undefined));
      }),
    );
    writing = false;
    const writes = await writer;

    expect(writes).toBeGreaterThan(10);
    // the watches saw events (some got bookmarks too), so the race was run for real
    const all = results.flat().map((l) => JSON.parse(l) as { type: string });
    expect(all.some((e) => e.type === 'MODIFIED')).toBe(true);
    expect(all.some((e) => e.type === 'BOOKMARK')).toBe(true);
    // still serving
    expect(await put(client, 'cm-0', 'after')).toBe(200);
    for (let i = 0; i < 50 && (server.openWatches > 0 || timers() > baseline); i++) await new Promise((r) => setTimeout(r, 100));
    expect(server.openWatches).toBe(0);
    expect(timers()).toBeLessThanOrEqual(baseline);
    expect(warnings.map((w) => w.message)).toEqual([]);
  });
});
