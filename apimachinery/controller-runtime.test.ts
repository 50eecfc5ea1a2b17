import { describe, expect, it } from 'vitest';
import { defineController, primary, requeueAfter, watch } from './controller-runtime.ts';
import type { Informer, InformerHandlers, KubeObject } from './informer.ts';
import { silentLogger } from './logging.ts';
import { ApiError } from './status.ts';

function fakeInformer() {
  const handlers: InformerHandlers<KubeObject>[] = [];
  const informer = { addHandlers: (h: InformerHandlers<KubeObject>) => void handlers.push(h), hasSynced: async () => {} } as unknown as Informer<KubeObject>;
  return { informer, add: (name: string) => handlers.forEach((h) => h.onAdd?.({ metadata: { namespace: 'ns', name } })) };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('controller runtime', () => {
  it('reconciles each queued key, looks again when asked, retries failures with back-off reset by success, and leaves gone objects', async () => {
    const seen: string[] = [];
    let failures = 0;
    const primaries = fakeInformer();
    const others = fakeInformer();
    const controller = defineController({
      name: 'test',
      log: silentLogger,
      backoff: { baseDelayMs: 5, maxDelayMs: 20 },
      watches: [primary(primaries.informer), watch(others.informer, (o) => `ns/owner-of-${o.metadata?.name}`)],
      async reconcile(key) {
        seen.push(key);
        if (key === 'ns/flaky' && failures++ < 2) throw new Error('try again');
        if (key === 'ns/gone') throw new ApiError('NotFound', 'gone');
        if (key === 'ns/timer' && seen.filter((k) => k === key).length === 1) return requeueAfter(10);
        return undefined;
      },
    });
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    primaries.add('a');
    primaries.add('flaky');
    primaries.add('gone');
    primaries.add('timer');
    others.add('pod');
    await until(() => seen.filter((k) => k === 'ns/flaky').length === 3 && seen.filter((k) => k === 'ns/timer').length === 2);
    stop.abort();
    await running;
    expect(seen.filter((k) => k === 'ns/flaky')).toHaveLength(3);
    expect(seen.filter((k) => k === 'ns/timer')).toHaveLength(2);
    expect(seen.filter((k) => k === 'ns/gone')).toHaveLength(1);
    expect(seen).toContain('ns/a');
    expect(seen).toContain('ns/owner-of-pod');
  });
});
