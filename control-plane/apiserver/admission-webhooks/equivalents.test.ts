import { describe, expect, it } from 'vitest';
import type { Obj, ResourceInfo } from '../resource-info.ts';
import { equivalentsOf, rulesMatch, type WriteKind } from './equivalents.ts';

// Two versions of one custom resource: v2 is stored, v1 presents `size` as `count`.
const v2: ResourceInfo = { group: 'example.com', version: 'v2', resource: 'gizmos', kind: 'Gizmo', singular: 'gizmo', namespaced: true };
const v1: ResourceInfo = {
  ...v2,
  version: 'v1',
  storage: {
    group: 'example.com',
    resource: 'gizmos',
    toStorage: ({ spec, ...o }) => ({ ...o, apiVersion: 'example.com/v2', spec: { size: (spec as { count: number }).count } }),
    fromStorage: ({ spec, ...o }) => ({ ...o, apiVersion: 'example.com/v1', spec: { count: (spec as { size: number }).size } }),
  },
};
const other: ResourceInfo = { ...v2, resource: 'widgets', kind: 'Widget' };
const gizmo = (spec: Record<string, unknown>): Obj => ({ apiVersion: 'example.com/v2', kind: 'Gizmo', metadata: { name: 'g' }, spec });

const write = (subresource = ''): WriteKind => ({
  operation: 'CREATE',
  group: 'example.com',
  version: 'v2',
  resource: 'gizmos',
  subresource,
  namespaced: true,
  equivalents: () => equivalentsOf(v2, [v2, v1, other], subresource),
});
const v1Rule = [{ operations: ['CREATE'], apiGroups: ['example.com'], apiVersions: ['v1'], resources: ['gizmos', 'gizmos/status'] }];

describe('matchPolicy', () => {
  it('takes a write through an equivalent version under Equivalent (the default), not under Exact', () => {
    expect(rulesMatch(v1Rule, 'Exact', write())).toBeUndefined();
    const match = rulesMatch(v1Rule, undefined, write());
    expect(match?.as === 'equivalent' && match.resource.version).toBe('v1');
    expect(rulesMatch([{ ...v1Rule[0], apiVersions: ['*'] }], 'Equivalent', write())).toEqual({ as: 'written' });
  });

  it('converts there and back through the stored form', async () => {
    const [e] = equivalentsOf(v2, [v2, v1, other], '');
    expect(e?.kind).toBe('Gizmo');
    const seen = await e?.toEquivalent(gizmo({ size: 3 }));
    expect(seen).toMatchObject({ apiVersion: 'example.com/v1', spec: { count: 3 } });
    expect(await e?.fromEquivalent({ ...(seen as Obj), spec: { count: 5 } })).toMatchObject({ apiVersion: 'example.com/v2', spec: { size: 5 } });
  });

  it('goes through a conversion call where the resource has one', async () => {
    const called: string[] = [];
    const viaWebhook: ResourceInfo = {
      ...v1,
      storage: {
        ...(v1.storage as NonNullable<ResourceInfo['storage']>),
        convert: async (obj, apiVersion) => {
          called.push(apiVersion);
          return { ...obj, apiVersion };
        },
      },
    };
    const [e] = equivalentsOf(v2, [viaWebhook], '');
    expect(await e?.toEquivalent(gizmo({ size: 1 }))).toMatchObject({ apiVersion: 'example.com/v1', spec: { size: 1 } });
    expect(called).toEqual(['example.com/v1']);
  });

  it('finds no equivalent for a subresource whose body is not the object, nor for another resource', () => {
    expect(equivalentsOf(v2, [v1], 'scale')).toEqual([]);
    expect(equivalentsOf(v2, [v1], 'status')).toHaveLength(1);
    expect(equivalentsOf(v2, [v2, other], '')).toEqual([]);
    expect(rulesMatch(v1Rule, 'Equivalent', write('scale'))).toBeUndefined();
  });
});
