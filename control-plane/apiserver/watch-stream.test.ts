import { EventEmitter, getEventListeners } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../apimachinery/index.ts';
import type { Registry, RegistryWatch, WatchOutput } from './registry.ts';
import { serveWatch, type WatchRequest } from './watch-stream.ts';

/** A response that records what it is sent and, as Node's does, emits 'error' for a write after end. */
class FakeResponse extends EventEmitter {
  lines: string[] = [];
  writableEnded = false;
  destroyed = false;
  writeHead() {
    return this;
  }
  flushHeaders() {}
  write(chunk: string): boolean {
    if (this.writableEnded) {
      queueMicrotask(() => this.emit('error', new Error('write after end')));
      return false;
    }
    this.lines.push(chunk);
    return true;
  }
  end() {
    this.writableEnded = true;
    this.emit('finish');
  }
  /** the client goes away */
  drop() {
    this.destroyed = true;
    this.emit('close');
  }
}

/** A registry with no objects whose watch hands its emit function and progress answers to the test. */
function fakeRegistry() {
  const state: { emit?: (e: WatchOutput) => void; progressAnswers: ((rv: number) => void)[]; stopped: number } = { progressAnswers: [], stopped: 0 };
  const registry = {
    info: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
    list: async () => ({ items: [], resourceVersion: '5' }),
    watch: async (_from: number, _opts: unknown, emit: (e: WatchOutput) => void): Promise<RegistryWatch> => {
      state.emit = emit;
      return { stop: () => void state.stopped++, progress: () => new Promise((resolve) => state.progressAnswers.push(resolve)) };
    },
  } as unknown as Registry;
  return { registry, state };
}

function request(registry: Registry, over: Partial<WatchRequest> = {}): WatchRequest {
  return {
    registry,
    opts: {},
    resourceVersion: '5',
    timeoutSeconds: 10,
    bookmarks: true,
    sendInitialEvents: false,
    render: (o) => o,
    bookmarkIntervalMs: 1000,
    tally: { open: 0 },
    log: silentLogger,
    ...over,
  };
}

describe('serveWatch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes nothing after the end: a bookmark whose revision arrives after the timeout is dropped', async () => {
    const { registry, state } = fakeRegistry();
    const res = new FakeResponse();
    const errors: Error[] = [];
    res.on('error', (e) => errors.push(e));
    const closing = new AbortController();
    const w = request(registry, { timeoutSeconds: 2 });
    const served = serveWatch(w, res as unknown as ServerResponse, closing.signal);
    await vi.advanceTimersByTimeAsync(1000);
    expect(state.progressAnswers).toHaveLength(1); // a bookmark is waiting for its revision
    await vi.advanceTimersByTimeAsync(1000);
    await served;
    expect(res.writableEnded).toBe(true);
    state.progressAnswers[0]?.(9);
    state.emit?.({ type: 'ADDED', object: { metadata: { name: 'late', resourceVersion: '10' } } });
    await vi.advanceTimersByTimeAsync(5000);
    expect(errors).toEqual([]);
    expect(res.lines.join('')).not.toContain('late');
    expect(vi.getTimerCount()).toBe(0);
    expect(state.stopped).toBe(1);
    expect(w.tally.open).toBe(0);
  });

  it('leaves no listener on the response or the server-wide signal, however it ends', async () => {
    const closing = new AbortController();
    const ends: ((res: FakeResponse) => Promise<void>)[] = [
      async () => void (await vi.advanceTimersByTimeAsync(10_000)), // timeout
      async (res) => res.drop(), // the client goes
    ];
    for (let i = 0; i < 30; i++) {
      const { registry, state } = fakeRegistry();
      const res = new FakeResponse();
      const served = serveWatch(request(registry), res as unknown as ServerResponse, closing.signal);
      await vi.advanceTimersByTimeAsync(0);
      await (ends[i % ends.length] as (r: FakeResponse) => Promise<void>)(res);
      await served;
      expect(res.listenerCount('close')).toBe(0);
      expect(state.stopped).toBe(1);
    }
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends every watch when the server closes, each with its timers', async () => {
    const closing = new AbortController();
    const watches = Array.from({ length: 5 }, () => {
      const { registry } = fakeRegistry();
      const res = new FakeResponse();
      return { res, served: serveWatch(request(registry), res as unknown as ServerResponse, closing.signal) };
    });
    await vi.advanceTimersByTimeAsync(0);
    closing.abort();
    await Promise.all(watches.map((w) => w.served));
    expect(watches.every((w) => w.res.writableEnded)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
