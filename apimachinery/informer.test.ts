import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ApiError } from './status.ts';
import { Informer, type KubeObject } from './informer.ts';
import type { RestClient, WatchEvent } from './rest-client.ts';

const managed = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }];

/** A client whose list holds one pod and whose watch then delivers `events` and waits for the end. */
function fakeClient(events: WatchEvent<KubeObject>[]): RestClient {
  return {
    get: async () => ({
      metadata: { resourceVersion: '1' },
      items: [{ metadata: { name: 'a', namespace: 'ns', resourceVersion: '1', managedFields: managed } }],
    }),
    watch: async (_ref: unknown, _q: unknown, onEvent: (e: WatchEvent<KubeObject>) => void, opts: { signal: AbortSignal }) => {
      for (const e of events) onEvent(e);
      await new Promise((resolve) => opts.signal.addEventListener('abort', resolve));
    },
  } as unknown as RestClient;
}

describe('Informer', () => {
  it('keeps objects without managedFields, listed or watched, and hands its handlers the same', async () => {
    const added = { metadata: { name: 'b', namespace: 'ns', resourceVersion: '2', managedFields: managed, labels: { x: 'y' } } };
    const informer = new Informer<KubeObject>(fakeClient([{ type: 'ADDED', object: added }]), { resource: 'pods' });
    const seen: KubeObject[] = [];
    informer.addHandlers({ onAdd: (o) => seen.push(o) });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    await informer.hasSynced();
    await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort();
    await running;
    expect(informer.list().map((o) => o.metadata)).toEqual([
      { name: 'a', namespace: 'ns', resourceVersion: '1' },
      { name: 'b', namespace: 'ns', resourceVersion: '2', labels: { x: 'y' } },
    ]);
    expect(seen.map((o) => Object.keys(o.metadata ?? {}).includes('managedFields'))).toEqual([false, false]);
  });

  it('backs off while the server is away, says so once, and says how many tries failed once a watch is taken again', async () => {
    const lines: { level: number; msg: string; failures?: number }[] = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    let attempts = 0;
    const stop = new AbortController();
    const client = {
      get: async () => ({ metadata: { resourceVersion: '1' }, items: [] }),
      watch: async (_ref: unknown, _q: unknown, _onEvent: unknown, opts: { signal: AbortSignal; onOpen?: () => void }) => {
        // the server goes away after the first watch, and takes the fourth
        if (++attempts === 1 || attempts === 5) {
          opts.onOpen?.();
          if (attempts === 5) stop.abort();
          return;
        }
        throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
      },
    } as unknown as RestClient;
    await new Informer<KubeObject>(client, { resource: 'pods' }, { log }).run(stop.signal);
    expect(attempts).toBe(5);
    const said = lines.filter((l) => l.msg.startsWith('list/watch'));
    // warned of once (the later failures are debug lines), then told how many tries failed
    expect(said.map((l) => [l.level, l.msg, l.failures])).toEqual([
      [40, 'list/watch failed, retrying', undefined],
      [20, 'list/watch failed, retrying', undefined],
      [20, 'list/watch failed, retrying', undefined],
      [30, 'list/watch works again', 3],
    ]);
  });

  it('lists again from scratch when its watch has expired (410)', async () => {
    let lists = 0;
    let watches = 0;
    const stop = new AbortController();
    const client = {
      get: async () => ({ metadata: { resourceVersion: String(++lists) }, items: [] }),
      watch: async () => {
        if (++watches === 2) stop.abort();
        throw new ApiError('Gone', 'too old resource version');
      },
    } as unknown as RestClient;
    await new Informer<KubeObject>(client, { resource: 'pods' }).run(stop.signal);
    expect([lists, watches]).toEqual([2, 2]);
  });
});
