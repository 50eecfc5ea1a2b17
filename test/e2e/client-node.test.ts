import { CoreV1Api, KubeConfig, makeInformer, type Informer, type ObjectCache, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../lab/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

// The official JavaScript client against skiff server: typed calls, and an
// informer (list, then watch from the list's resourceVersion) that rides
// through a server restart without losing an event.

const api = useTestApiServer('sk-client-node-', ['--disable-scheduler', '--disable-controllers']);
let core: CoreV1Api;
let informer: (Informer<V1ConfigMap> & ObjectCache<V1ConfigMap>) | undefined;
const NS = 'default';

beforeAll(async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  informer = makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () => core.listNamespacedConfigMap({ namespace: NS }));
});

// before the server stops (the fixture's own afterAll runs last)
afterAll(async () => {
  await informer?.stop();
});

const configMap = (name: string, v: string): V1ConfigMap => ({ metadata: { name }, data: { v } });

describe('@kubernetes/client-node', () => {
  it('creates, reads and refuses as the typed API says', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: configMap('typed', '1') });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await core.readNamespacedConfigMap({ namespace: NS, name: 'typed' })).data).toEqual({ v: '1' });
    const clash = await core.createNamespacedConfigMap({ namespace: NS, body: configMap('typed', '2') }).catch((err: { code?: number; body?: string }) => err);
    expect((clash as { code?: number }).code).toBe(409);
    expect(JSON.parse((clash as { body: string }).body)).toMatchObject({ kind: 'Status', reason: 'AlreadyExists' });
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'typed' });
  });

  it('keeps an informer whole across a server restart', async () => {
    const seen: string[] = [];
    const record = (type: string) => (cm: V1ConfigMap) => seen.push(`${type} ${cm.metadata?.name} ${cm.data?.v ?? ''}`);
    const inf = informer as Informer<V1ConfigMap> & ObjectCache<V1ConfigMap>;
    inf.on('add', record('add'));
    inf.on('update', record('update'));
    inf.on('delete', record('delete'));
    // the informer stops on a broken watch; coming back is the caller's part
    inf.on('error', () => setTimeout(() => void inf.start().catch(() => inf.stop()), 500));
    await inf.start();

    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('a', '1') });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('b', '1') });
    await waitFor('both adds', async () => seen.length === 2, 10_000, 50);

    await api.restart();
    // written before the informer is back: it must still hear of them
    await core.replaceNamespacedConfigMap({ namespace: NS, name: 'a', body: configMap('a', '2') });
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'b' });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('c', '1') });
    await waitFor('the events written over the restart', async () => seen.length >= 5, 30_000, 100);
    await core.patchNamespacedConfigMap({ namespace: NS, name: 'c', body: [{ op: 'replace', path: '/data/v', value: '2' }] });
    await waitFor('the last update', async () => seen.length >= 6, 10_000, 50);

    expect(seen).toEqual(['add a 1', 'add b 1', 'update a 2', 'delete b 1', 'add c 1', 'update c 2']);
    const names = (items: readonly V1ConfigMap[]) => items.map((cm) => `${cm.metadata?.name} ${cm.data?.v}`).sort();
    const stored = names((await core.listNamespacedConfigMap({ namespace: NS })).items);
    expect(names(inf.list(NS))).toEqual(stored);
    expect(stored).toEqual(['a 2', 'c 2']);
  });
});
