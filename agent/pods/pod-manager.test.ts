import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type Informer, type InformerHandlers, type RestClient } from '../../apimachinery/index.ts';
import { PodManager, type PodSink } from './pod-manager.ts';
import { CONFIG_MIRROR } from './static-pods.ts';

/** An informer of pods the test adds and deletes, handing each change to the handlers. */
function fakeInformer() {
  const store = new Map<string, Pod>();
  const handlers: InformerHandlers<Pod>[] = [];
  const key = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;
  const informer = {
    addHandlers: (h: InformerHandlers<Pod>) => void handlers.push(h),
    get: (k: string) => store.get(k),
    list: () => [...store.values()],
  } as unknown as Informer<Pod>;
  return {
    informer,
    add(p: Pod) {
      store.set(key(p), p);
      for (const h of handlers) h.onAdd?.(p);
    },
    delete(p: Pod) {
      store.delete(key(p));
      for (const h of handlers) h.onDelete?.(p);
    },
  };
}

/** A sink that notes what it is handed. */
function recordingSink() {
  const seen: string[] = [];
  const sink: PodSink = {
    update: (p) => void seen.push(`update ${p.metadata?.name}`),
    remove: (uid) => void seen.push(`remove ${uid}`),
    mirrorSeen: (uid) => void seen.push(`mirror of ${uid}`),
  };
  return { seen, sink };
}

const pod = (name: string, uid: string, annotations?: Record<string, string>): Pod => ({
  metadata: { name, namespace: 'default', uid, annotations },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
});

describe('pod manager', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the pods the API binds to the node and never a mirror pod', () => {
    const api = fakeInformer();
    const manager = new PodManager(api.informer, { client: {} as RestClient, log: silentLogger });
    const { seen, sink } = recordingSink();
    manager.feed(sink);
    api.add(pod('web', 'u1'));
    api.add(pod('etcd-n1', 'm1', { [CONFIG_MIRROR]: 'not-ours' }));
    api.delete(pod('web', 'u1'));
    expect(seen).toEqual(['update web', 'remove u1']);
    expect(manager.desired()).toEqual([]);
    expect(manager.statusUid({ namespace: 'default', name: 'web', uid: 'u1' })).toBe('u1');
  });

  it('runs static pods from the manifests, mirrors them, and writes their status to the mirror once there is one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sk-podmgr-'));
    await writeFile(join(dir, 'etcd.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd}\nspec:\n  containers: [{name: c, image: busybox}]\n');
    const api = fakeInformer();
    const created: Pod[] = [];
    const client = { create: async (_ref: unknown, body: Pod) => void created.push(body) } as unknown as RestClient;
    const manager = new PodManager(api.informer, { client, log: silentLogger });
    const { seen, sink } = recordingSink();
    manager.feed(sink);
    const stop = new AbortController();
    await manager.runStatic({ dir, node: { name: 'n1', uid: 'node-uid' }, sink, everyMs: 60_000, signal: stop.signal });
    try {
      const [staticPod] = manager.desired();
      const uid = staticPod?.metadata?.uid as string;
      expect(seen).toEqual(['update etcd-n1']);
      // no mirror yet: nowhere to write its status
      expect(manager.statusUid({ namespace: 'default', name: 'etcd-n1', uid })).toBeNull();
      await expect.poll(() => created.length).toBe(1);
      expect(created[0]?.metadata?.annotations?.[CONFIG_MIRROR]).toBe(uid);
      // the mirror appears in the API: its status goes there, and the mirror itself is not run
      api.add({ ...(created[0] as Pod), metadata: { ...created[0]?.metadata, uid: 'mirror-uid' } });
      expect(seen).toEqual(['update etcd-n1', `mirror of ${uid}`]);
      expect(manager.statusUid({ namespace: 'default', name: 'etcd-n1', uid })).toBe('mirror-uid');
      expect(manager.byName('default', 'etcd-n1')?.metadata?.uid).toBe(uid);
    } finally {
      stop.abort();
    }
  });
});
