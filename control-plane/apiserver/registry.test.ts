import { describe, expect, it } from 'vitest';
import { ApiError, parseFieldSelector } from '../../apimachinery/index.ts';
import { SqliteStorage } from '../storage/index.ts';
import { Registry, type WatchOutput } from './registry.ts';
import { podStrategy } from './resources/pods.ts';
import type { Obj } from './resource-info.ts';

function pods() {
  return new Registry(
    { group: '', version: 'v1', resource: 'pods', kind: 'Pod', singular: 'pod', namespaced: true, subresources: ['status', 'binding'], strategy: podStrategy },
    new SqliteStorage(':memory:'),
  );
}

const pod = (name: string, extra: Partial<Obj> = {}): Obj => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] }, ...extra });

describe('Registry', () => {
  it('fills in identity, defaults and status on create', async () => {
    const created = await pods().create('default', pod('web'));
    expect(created).toMatchObject({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default', generation: 1, resourceVersion: '1' },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    });
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect((created.spec as { restartPolicy: string }).restartPolicy).toBe('Always');
  });

  it('generates names and reports all field causes at once', async () => {
    const r = pods();
    expect((await r.create('default', { metadata: { generateName: 'web-' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } })).metadata.name).toMatch(
      /^web-[a-z0-9]{5}$/,
    );
    const err = await r.create('default', { metadata: { name: 'Bad_Name' }, spec: { containers: [] } }).catch((e: ApiError) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(422);
    expect((err as ApiError).details?.causes?.map((c) => c.field)).toEqual(['metadata.name', 'spec.containers']);
    expect((await r.list({})).items).toHaveLength(1);
  });

  it('refuses a stale resourceVersion and keeps status on a spec update', async () => {
    const r = pods();
    const a = await r.create('default', pod('web'));
    await r.update('default', 'web', { ...a, status: { phase: 'Running' } }, { subresource: 'status' });
    const stale = await r.update('default', 'web', a).catch((e: ApiError) => e);
    expect((stale as ApiError).reason).toBe('Conflict');
    const cur = await r.get('default', 'web');
    const updated = await r.update('default', 'web', { ...cur, metadata: { ...cur.metadata, labels: { a: 'b' } }, status: { phase: 'Failed' } });
    expect(updated.status?.phase).toBe('Running');
    expect(updated.metadata.labels).toEqual({ a: 'b' });
  });

  it('deletes a scheduled pod gracefully and an unscheduled one at once', async () => {
    const r = pods();
    await r.create('default', pod('loose'));
    expect((await r.delete('default', 'loose')).gone).toBe(true);
    await r.create('default', pod('bound', { spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } }));
    const graceful = await r.delete('default', 'bound');
    expect(graceful.gone).toBe(false);
    expect(graceful.obj.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(graceful.obj.metadata.deletionTimestamp).toBeDefined();
    expect((await r.delete('default', 'bound', { gracePeriodSeconds: 0 })).gone).toBe(true);
    await expect(r.get('default', 'bound')).rejects.toMatchObject({ code: 404 });
  });

  it('watches with MODIFIED for updates and DELETED/ADDED as objects leave or enter a selector', async () => {
    const r = pods();
    const a = await r.create('default', pod('web'));
    const seen: string[] = [];
    const { stop } = await r.watch(Number(a.metadata.resourceVersion), { fields: parseFieldSelector('spec.nodeName=n1') }, (e: WatchOutput) =>
      seen.push(`${e.type} ${e.object.metadata.name}`),
    );
    await r.guaranteedUpdate('default', 'web', (p) => ({ ...p, spec: { ...p.spec, nodeName: 'n1' } }), { subresource: 'binding' });
    await r.update('default', 'web', { ...(await r.get('default', 'web')), status: { phase: 'Running' } }, { subresource: 'status' });
    await r.delete('default', 'web', { gracePeriodSeconds: 0 });
    stop();
    expect(seen).toEqual(['ADDED web', 'MODIFIED web', 'DELETED web']);
  });
});

describe.each([
  ['from storage', false],
  ['with the watch cache', true],
])('Registry and resourceVersions (%s)', (_name, cached) => {
  async function setUp() {
    const storage = new SqliteStorage(':memory:');
    const r = new Registry(pods().info, storage);
    if (cached) await r.startCache();
    for (const name of ['a', 'b', 'c']) await r.create('default', pod(name));
    return { r, storage };
  }
  const names = (l: { items: Obj[] }) => l.items.map((o) => o.metadata.name);

  it('pages through the snapshot of the first page while the store moves on', async () => {
    const { r } = await setUp();
    const first = await r.list({ limit: 1 });
    await r.create('default', pod('aa'));
    await r.delete('default', 'b');
    const second = await r.list({ limit: 1, continue: first.continue });
    const third = await r.list({ limit: 1, continue: second.continue });
    expect([names(first), names(second), names(third)]).toEqual([['a'], ['b'], ['c']]);
    expect(second.resourceVersion).toBe(first.resourceVersion);
    expect(third.continue).toBeUndefined();
    expect(names(await r.list({}))).toEqual(['a', 'aa', 'c']);
  });

  it('reads an exact revision, refuses a compacted one with 410 and a future one with 504', async () => {
    const { r, storage } = await setUp();
    const before = (await r.list({})).resourceVersion;
    await r.delete('default', 'a');
    const exact = await r.list({ read: { match: 'Exact', revision: Number(before) } });
    expect(names(exact)).toEqual(['a', 'b', 'c']);
    expect(exact.resourceVersion).toBe(before);
    expect(names(await r.list({ read: { match: 'NotOlderThan', revision: Number(before) } }))).toEqual(['b', 'c']);
    await storage.compact(await storage.currentRevision());
    await expect(r.list({ read: { match: 'Exact', revision: Number(before) } })).rejects.toMatchObject({
      code: 410,
      message: 'The resourceVersion for the provided list is too old.',
    });
    const ahead = Number(before) + 100;
    const tooLarge = await r.list({ read: { match: 'NotOlderThan', revision: ahead } }).catch((e: ApiError) => e);
    expect(tooLarge).toMatchObject({ code: 504, message: `Too large resource version: ${ahead}, current: ${Number(before) + 1}` });
    expect((tooLarge as ApiError).details?.causes?.[0]?.reason).toBe('ResourceVersionTooLarge');
    await expect(r.list({ read: { match: 'Exact', revision: ahead } })).rejects.toMatchObject({ code: 504 });
  });

  it('vouches for the whole store revision to watches, writes to other resources included', async () => {
    const { r, storage } = await setUp();
    const other = new Registry({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', singular: 'configmap', namespaced: true }, storage);
    const t = await other.create('default', { metadata: { name: 't' }, data: {} });
    const watch = await r.watch(0, {}, () => {});
    expect(await watch.progress()).toBe(Number(t.metadata.resourceVersion));
    watch.stop();
  });

  it('answers a continue token whose snapshot is compacted with 410 and a token for the rest', async () => {
    const { r, storage } = await setUp();
    const first = await r.list({ limit: 1 });
    await r.delete('default', 'b');
    await storage.compact(await storage.currentRevision());
    const err = (await r.list({ limit: 1, continue: first.continue }).catch((e: ApiError) => e)) as ApiError;
    expect(err.toStatus()).toMatchObject({ code: 410, reason: 'Gone', metadata: { continue: expect.any(String) } });
    expect(err.message).toMatch(/^The provided continue parameter is too old/);
    const rest = await r.list({ continue: err.listMeta.continue });
    expect(names(rest)).toEqual(['c']);
  });
});

describe('Registry with a reserving strategy (Service ClusterIPs)', () => {
  it('takes a ClusterIP only for a create that is stored, and gives it back otherwise', async () => {
    const { NodePortRange, ServiceIpRange, serviceStrategy } = await import('./resources/services.ts');
    const ips = new ServiceIpRange('10.96.0.0/29');
    const services = new Registry(
      {
        group: '',
        version: 'v1',
        resource: 'services',
        kind: 'Service',
        singular: 'service',
        namespaced: true,
        strategy: serviceStrategy(ips, new NodePortRange()),
      },
      new SqliteStorage(':memory:'),
    );
    const svc = (name: string, clusterIP?: string): Obj => ({ metadata: { name }, spec: { ports: [{ port: 80 }], ...(clusterIP ? { clusterIP } : {}) } });
    const dry = await services.create('default', svc('a', '10.96.0.2'), { dryRun: true });
    expect(dry.spec?.clusterIP).toBe('10.96.0.2');
    // the dry run did not keep the address
    expect((await services.create('default', svc('a', '10.96.0.2'))).spec?.clusterIP).toBe('10.96.0.2');
    // a create that fails in storage gives its address back
    await expect(services.create('default', svc('a', '10.96.0.3'))).rejects.toMatchObject({ reason: 'AlreadyExists' });
    expect((await services.create('default', svc('b', '10.96.0.3'))).spec?.clusterIP).toBe('10.96.0.3');
    // an invalid object never takes one
    await expect(services.create('default', { metadata: { name: 'Bad_Name' }, spec: { ports: [{ port: 80 }], clusterIP: '10.96.0.4' } })).rejects.toMatchObject(
      { code: 422 },
    );
    expect((await services.create('default', svc('c', '10.96.0.4'))).spec?.clusterIP).toBe('10.96.0.4');
    await expect(services.create('default', svc('d', '10.96.0.4'))).rejects.toMatchObject({ code: 422 });
    // deleting a Service gives its address back
    await services.delete('default', 'c');
    expect((await services.create('default', svc('d', '10.96.0.4'))).spec?.clusterIP).toBe('10.96.0.4');
  });

  it('allocates NodePorts, refuses ones out of range or taken, and frees them on delete', async () => {
    const { NodePortRange, ServiceIpRange, serviceStrategy } = await import('./resources/services.ts');
    const services = new Registry(
      {
        group: '',
        version: 'v1',
        resource: 'services',
        kind: 'Service',
        singular: 'service',
        namespaced: true,
        strategy: serviceStrategy(new ServiceIpRange('10.96.0.0/24'), new NodePortRange()),
      },
      new SqliteStorage(':memory:'),
    );
    const svc = (name: string, nodePort?: number): Obj => ({
      metadata: { name },
      spec: { type: 'NodePort', ports: [{ port: 80, ...(nodePort ? { nodePort } : {}) }] },
    });
    const nodePort = (o: Obj) => (o.spec as { ports: { nodePort: number }[] }).ports[0]?.nodePort;
    const auto = nodePort(await services.create('default', svc('auto'))) as number;
    expect(auto).toBeGreaterThanOrEqual(30000);
    expect(auto).toBeLessThanOrEqual(32767);
    expect(nodePort(await services.create('default', svc('fixed', 30080)))).toBe(30080);
    await expect(services.create('default', svc('clash', 30080))).rejects.toMatchObject({
      code: 422,
      details: { causes: [{ field: 'spec.ports[0].nodePort', message: 'Invalid value: 30080: provided port is already allocated' }] },
    });
    await expect(services.create('default', svc('low', 8080))).rejects.toMatchObject({
      details: { causes: [{ message: 'Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767' }] },
    });
    await services.delete('default', 'fixed');
    expect(nodePort(await services.create('default', svc('again', 30080)))).toBe(30080);
  });
});
