import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MeasuredStorage } from './measured-storage.ts';
import type { Storage } from './types.ts';

describe('store latency', () => {
  it('times each request by operation and the resource its key names, failures included', async () => {
    const registry = new Registry();
    const kv = { key: '/registry/pods/default/p', value: '{}', createRevision: 1, modRevision: 1, version: 1 };
    const inner = {
      get: async () => kv,
      list: async () => ({ items: [], revision: 1, more: false }),
      create: async () => {
        throw new Error('exists');
      },
    } as unknown as Storage;
    const store = new MeasuredStorage(inner, registry);
    expect(await store.get('/registry/pods/default/p')).toBe(kv);
    await store.list('/registry/apps/deployments/');
    await store.list('/registry/apiextensions.k8s.io/customresourcedefinitions/');
    await expect(store.create('/elsewhere/x', '{}')).rejects.toThrow('exists');
    const text = await registry.metrics();
    expect(text).toContain('etcd_request_duration_seconds_count{operation="get",type="pods"} 1');
    expect(text).toContain('etcd_request_duration_seconds_count{operation="list",type="deployments.apps"} 1');
    expect(text).toContain('etcd_request_duration_seconds_count{operation="list",type="customresourcedefinitions.apiextensions.k8s.io"} 1');
    expect(text).toContain('etcd_request_duration_seconds_count{operation="create",type="unknown"} 1');
  });
});
