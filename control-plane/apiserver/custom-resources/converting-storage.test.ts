import { describe, expect, it } from 'vitest';
import { SqliteStorage, type StorageError, type StorageEvent } from '../../storage/index.ts';
import type { Obj } from '../resource-info.ts';
import { checkedResponse } from './conversion-webhook.ts';
import { ConvertingStorage } from './converting-storage.ts';

/** A webhook stand-in: v1 keeps spec.color, v2 spec.paint.color; `down` makes it fail. */
function fakeWebhook() {
  const calls: string[] = [];
  const hook = {
    down: false,
    calls,
    async convert(objects: Obj[], to: string): Promise<Obj[]> {
      if (hook.down) throw new Error('conversion webhook for x failed: connection refused');
      calls.push(`${objects.length}->${to}`);
      return objects.map((o) => {
        if (o.apiVersion === to) return o;
        const spec = o.spec as { color?: string; paint?: { color?: string } };
        return { ...o, apiVersion: to, spec: to.endsWith('/v2') ? { paint: { color: spec.color } } : { color: spec.paint?.color } };
      });
    },
  };
  return hook;
}

const widget = (apiVersion: string, spec: object) => JSON.stringify({ apiVersion, kind: 'Widget', metadata: { name: 'w' }, spec });

describe('ConvertingStorage', () => {
  it('stores writes in the storage version and reads, lists and watches in the served one, in order', async () => {
    const inner = new SqliteStorage(':memory:');
    const hook = fakeWebhook();
    const v2 = new ConvertingStorage(inner, hook, { served: 'g/v2', stored: 'g/v1' });
    const seen: StorageEvent[] = [];
    const stop = await v2.watch('/w/', 0, (e) => seen.push(e));
    const created = await v2.create('/w/a', widget('g/v2', { paint: { color: 'red' } }));
    expect(JSON.parse((await inner.get('/w/a'))?.value ?? '')).toMatchObject({ apiVersion: 'g/v1', spec: { color: 'red' } });
    expect(JSON.parse(created.value)).toMatchObject({ apiVersion: 'g/v2', spec: { paint: { color: 'red' } } });
    await inner.update('/w/a', widget('g/v1', { color: 'blue' }), created.modRevision);
    await inner.create('/w/b', widget('g/v1', { color: 'green' }));
    const page = await v2.list('/w/');
    expect(page.items.map((kv) => (JSON.parse(kv.value) as { spec: { paint: { color: string } } }).spec.paint.color)).toEqual(['blue', 'green']);
    await expect.poll(() => seen.length).toBe(3);
    expect(seen.map((e) => (JSON.parse(e.kv.value) as { apiVersion: string }).apiVersion)).toEqual(['g/v2', 'g/v2', 'g/v2']);
    const revisions = seen.map((e) => e.kv.modRevision);
    expect(revisions[0]).toBe(created.modRevision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(JSON.parse(seen[1]?.prev?.value ?? '')).toMatchObject({ spec: { paint: { color: 'red' } } });
    stop();
  });

  it('ends its watch when an event cannot be converted', async () => {
    const inner = new SqliteStorage(':memory:');
    const hook = fakeWebhook();
    const v2 = new ConvertingStorage(inner, hook, { served: 'g/v2', stored: 'g/v1' });
    const ended: StorageError[] = [];
    const seen: StorageEvent[] = [];
    await v2.watch(
      '/w/',
      0,
      (e) => seen.push(e),
      (err) => ended.push(err),
    );
    hook.down = true;
    await inner.create('/w/a', widget('g/v1', { color: 'red' }));
    await inner.create('/w/b', widget('g/v1', { color: 'red' }));
    await expect.poll(() => ended.length).toBe(1);
    expect(ended[0]).toMatchObject({ code: 'Unavailable' });
    expect(seen).toEqual([]);
  });

  it('ends a watch whose replayed history cannot be converted', async () => {
    const inner = new SqliteStorage(':memory:');
    const first = await inner.create('/w/a', widget('g/v1', { color: 'red' }));
    await inner.create('/w/b', widget('g/v1', { color: 'blue' }));
    const hook = fakeWebhook();
    hook.down = true;
    const v2 = new ConvertingStorage(inner, hook, { served: 'g/v2', stored: 'g/v1' });
    const ended: StorageError[] = [];
    const stop = await v2.watch(
      '/w/',
      first.modRevision,
      () => undefined,
      (err) => ended.push(err),
    );
    await expect.poll(() => ended.length).toBe(1);
    expect(ended[0]).toMatchObject({ code: 'Unavailable' });
    stop();
  });

  it('takes from a ConversionReview only a whole, matching answer', () => {
    const ok = { response: { uid: 'u', result: { status: 'Success' }, convertedObjects: [{ apiVersion: 'g/v2' }] } };
    expect(checkedResponse(ok, 'u', 1, 'g/v2')).toHaveLength(1);
    expect(() => checkedResponse(ok, 'other', 1, 'g/v2')).toThrow('expected response uid other, got u');
    expect(() => checkedResponse(ok, 'u', 2, 'g/v2')).toThrow('expected 2 converted objects, got 1');
    expect(() => checkedResponse(ok, 'u', 1, 'g/v3')).toThrow('invalid apiVersion "g/v2"');
    expect(() => checkedResponse({ response: { uid: 'u', result: { status: 'Failure', message: 'no way' } } }, 'u', 1, 'g/v2')).toThrow(
      'conversion request failed: no way',
    );
  });
});
