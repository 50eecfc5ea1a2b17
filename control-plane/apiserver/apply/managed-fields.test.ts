import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../apimachinery/index.ts';
import type { Obj } from '../resource-info.ts';
import { describePath, fieldsOf, fromFieldsV1, joinPath, toFieldsV1 } from './field-set.ts';
import { applyConfiguration, recordUpdate, type ManagedFieldsEntry, type WriteScope } from './managed-fields.ts';

const scope = (manager: string, subresource = ''): WriteScope => ({ manager, apiVersion: 'apps/v1', subresource, statusSeparate: true });

const deployment = (replicas: number, containers: object[], labels: Record<string, string> = { app: 'web' }): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels },
  spec: { replicas, template: { spec: { containers } } },
});

const managers = (obj: Obj) =>
  (obj.metadata.managedFields as ManagedFieldsEntry[]).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);

describe('field sets', () => {
  it('name keyed list items, set values and leaves as FieldsV1 does, and read back', () => {
    const set = fieldsOf({ metadata: { finalizers: ['a'] }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }], args: ['x'] } });
    expect(toFieldsV1(set)).toEqual({
      'f:metadata': { 'f:finalizers': { 'v:"a"': {} } },
      'f:spec': {
        'f:args': {},
        'f:containers': {
          'k:{"name":"c"}': { '.': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } },
        },
      },
    });
    expect(fromFieldsV1(toFieldsV1(set))).toEqual(set);
    expect(describePath(joinPath(['f:spec', 'f:containers', 'k:{"name":"c"}', 'f:image']))).toBe('.spec.containers[name="c"].image');
  });
});

describe('server-side apply', () => {
  it('creates with the applier owning exactly its fields', () => {
    const obj = applyConfiguration(undefined, deployment(2, [{ name: 'c', image: 'a' }]), scope('helm'), false);
    expect(managers(obj)).toEqual(['helm/Apply']);
    expect((obj.metadata.managedFields as ManagedFieldsEntry[])[0]?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
    });
  });

  it('conflicts with another manager holding a field at another value, and takes it when forced', () => {
    const live = applyConfiguration(undefined, deployment(2, [{ name: 'c', image: 'a' }]), scope('helm'), false);
    const scaled = structuredClone(live);
    (scaled.spec as { replicas: number }).replicas = 5;
    recordUpdate(live, scaled, scope('kubectl-scale', 'scale'));
    expect(managers(scaled)).toEqual(['helm/Apply', 'kubectl-scale/Update/scale']);

    let err: unknown;
    try {
      applyConfiguration(scaled, deployment(2, [{ name: 'c', image: 'a' }]), scope('helm'), false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(409);
    expect((err as ApiError).message).toBe('Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas');
    expect((err as ApiError).details?.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-scale" using apps/v1', field: '.spec.replicas' },
    ]);

    // the same value is shared ownership, not a conflict
    expect(applyConfiguration(scaled, deployment(5, [{ name: 'c', image: 'a' }]), scope('helm'), false).spec?.replicas).toBe(5);
    const forced = applyConfiguration(scaled, deployment(2, [{ name: 'c', image: 'a' }]), scope('helm'), true);
    expect(forced.spec?.replicas).toBe(2);
    expect(managers(forced)).toEqual(['helm/Apply']);
  });

  it('removes what it stopped applying unless another manager holds it', () => {
    const live = applyConfiguration(
      undefined,
      deployment(
        2,
        [
          { name: 'c', image: 'a' },
          { name: 'd', image: 'b' },
        ],
        { app: 'web', tier: 'front' },
      ),
      scope('helm'),
      false,
    );
    const edited = structuredClone(live);
    edited.metadata.labels = { ...edited.metadata.labels, owner: 'ops' };
    (edited.metadata.labels as Record<string, string>).tier = 'back';
    recordUpdate(live, edited, scope('kubectl-label'));
    const next = applyConfiguration(edited, deployment(2, [{ name: 'c', image: 'a' }]), scope('helm'), false);
    expect((next.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers.map((c) => c.name)).toEqual(['c']);
    // tier was taken over by the label edit, so it stays; owner never was helm's
    expect(next.metadata.labels).toEqual({ app: 'web', tier: 'back', owner: 'ops' });
  });

  it('takes away the parents it emptied, and keeps the ones another manager still holds', () => {
    const withStrategy = (strategy: object, resources?: object): Obj => {
      const d = deployment(1, [{ name: 'c', image: 'a', ...(resources ? { resources } : {}) }]);
      (d.spec as Record<string, unknown>).strategy = strategy;
      return d;
    };
    const first = applyConfiguration(
      undefined,
      withStrategy({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } }, { limits: { cpu: '1' } }),
      scope('helm'),
      false,
    );
    const next = applyConfiguration(first, withStrategy({ type: 'Recreate' }), scope('helm'), false);
    const spec = next.spec as { strategy: object; template: { spec: { containers: object[] } } };
    // no `rollingUpdate: {}` (which Recreate refuses) and no `resources: {limits: {}}`
    expect(spec.strategy).toEqual({ type: 'Recreate' });
    expect(spec.template.spec.containers).toEqual([{ name: 'c', image: 'a' }]);
    // a map that another manager has a field in stays, that field with it
    const edited = structuredClone(first);
    ((edited.spec as { strategy: { rollingUpdate: Record<string, unknown> } }).strategy.rollingUpdate as Record<string, unknown>).maxUnavailable = 0;
    recordUpdate(first, edited, scope('kubectl-edit'));
    const kept = applyConfiguration(edited, withStrategy({ type: 'RollingUpdate' }), scope('helm'), false);
    expect((kept.spec as { strategy: object }).strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
  });

  it('leaves status to the status subresource', () => {
    const cfg = { ...deployment(1, [{ name: 'c', image: 'a' }]), status: { replicas: 9 } };
    const obj = applyConfiguration(undefined, cfg, scope('helm'), false);
    expect(obj.status).toBeUndefined();
  });
});

describe('update tracking', () => {
  it('gives an update the fields it changed and takes them from others', () => {
    const created = deployment(1, [{ name: 'c', image: 'a' }]);
    recordUpdate(undefined, created, scope('kubectl-create'));
    const next = structuredClone(created);
    (next.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image = 'b';
    recordUpdate(created, next, scope('kubectl-set'));
    const entries = next.metadata.managedFields as ManagedFieldsEntry[];
    expect(entries.map((e) => e.manager)).toEqual(['kubectl-create', 'kubectl-set']);
    expect(entries[1]?.fieldsV1).toEqual({ 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { 'f:image': {} } } } } } });
    expect(JSON.stringify(entries[0]?.fieldsV1)).not.toContain('f:image');
  });

  it('keeps managedFields as a client wrote them', () => {
    const created = deployment(1, []);
    recordUpdate(undefined, created, scope('a'));
    const next = structuredClone(created);
    next.metadata.managedFields = [
      { manager: 'b', operation: 'Apply', apiVersion: 'apps/v1', time: 'x', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
    ];
    recordUpdate(created, next, scope('a'));
    expect(managers(next)).toEqual(['b/Apply']);
  });
});
