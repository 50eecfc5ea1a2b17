import { describe, expect, it } from 'vitest';
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
    watch: async (_ref: unknown, _q: unknown, onEvent: (e: WatchEvent<KubeObject>) => void, signal: AbortSignal) => {
      for (const e of events) onEvent(e);
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
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
});
