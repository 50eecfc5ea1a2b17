import { ApiError, rfc3339 } from '../../../apimachinery/index.ts';
import { isObject, listType } from '../list-keys.ts';
import type { Obj } from '../resource-info.ts';
import { describePath, fieldsOf, fromFieldsV1, removeAt, sameValue, splitPath, toFieldsV1, valueAt, type FieldSet } from './field-set.ts';

// Field ownership as server-side apply keeps it in metadata.managedFields.
// Every write records which manager set which fields: an update takes the
// fields whose values it changed; an apply owns exactly the fields of its
// configuration, conflicts with other managers holding a field at another
// value (unless forced), and drops the fields it applied before but no
// longer does, when nobody else holds them.

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

interface Owner {
  entry: ManagedFieldsEntry;
  fields: FieldSet;
}

/** Which part of the object a write reaches, and so which fields it can own. */
export interface WriteScope {
  manager: string;
  apiVersion: string;
  /** '' for the main resource */
  subresource: string;
  /** the resource has a status subresource, so main-resource writes do not own status */
  statusSeparate: boolean;
}

// server-set metadata nobody owns
const UNOWNED_META = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
];

/** The fields a write in this scope can own. */
function ownable(obj: Obj, scope: WriteScope): FieldSet {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  const view: Record<string, unknown> = { ...rest, metadata: { ...obj.metadata } };
  for (const f of UNOWNED_META) delete (view.metadata as Record<string, unknown>)[f];
  if (scope.subresource === 'status') return fieldsOf({ status: obj.status });
  if (scope.statusSeparate) delete view.status;
  return fieldsOf(view);
}

function owners(obj: Obj | undefined): Owner[] {
  const entries = (obj?.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  return entries.filter((e) => isObject(e) && e.manager !== undefined).map((entry) => ({ entry: { ...entry }, fields: fromFieldsV1(entry.fieldsV1) }));
}

function store(obj: Obj, list: Owner[]): void {
  const kept = list.filter((o) => o.fields.size > 0).map((o) => ({ ...o.entry, fieldsType: 'FieldsV1' as const, fieldsV1: toFieldsV1(o.fields) }));
  if (kept.length) obj.metadata.managedFields = kept;
  else delete obj.metadata.managedFields;
}

function ownerFor(list: Owner[], scope: WriteScope, operation: ManagedFieldsEntry['operation']): Owner {
  let mine = list.find((o) => o.entry.manager === scope.manager && o.entry.operation === operation && (o.entry.subresource ?? '') === scope.subresource);
  if (!mine) {
    mine = {
      entry: {
        manager: scope.manager,
        operation,
        apiVersion: scope.apiVersion,
        time: '',
        fieldsType: 'FieldsV1',
        fieldsV1: {},
        ...(scope.subresource ? { subresource: scope.subresource } : {}),
      },
      fields: new Set(),
    };
    list.push(mine);
  }
  mine.entry.apiVersion = scope.apiVersion;
  mine.entry.time = rfc3339();
  return mine;
}

/**
 * Records a create, update or patch (operation Update) in next's managedFields.
 * A write that sets managedFields itself replaces them as written.
 */
export function recordUpdate(old: Obj | undefined, next: Obj, scope: WriteScope): void {
  const given = next.metadata.managedFields;
  if (Array.isArray(given) && given.length > 0 && !sameValue(given, old?.metadata.managedFields)) {
    const list = owners(next);
    return store(next, list);
  }
  const before = old ? ownable(old, scope) : new Set<string>();
  const after = ownable(next, scope);
  // an item (`.`) changes by coming into being; its fields speak for its content
  const changed = [...after].filter((p) => !before.has(p) || (!p.endsWith('.') && !sameValue(valueAt(old, p), valueAt(next, p))));
  const removed = [...before].filter((p) => !after.has(p));
  const list = owners(old);
  if (changed.length === 0 && removed.length === 0) return store(next, list);
  for (const o of list) for (const p of [...changed, ...removed]) o.fields.delete(p);
  const mine = ownerFor(list, scope, 'Update');
  for (const p of changed) mine.fields.add(p);
  store(next, list);
}

/** Merges an applied configuration into the live object: maps and keyed lists merge, set lists union, the rest is replaced. */
export function mergeApplied(live: unknown, applied: unknown, field = ''): unknown {
  if (Array.isArray(applied)) {
    if (!Array.isArray(live)) return structuredClone(applied);
    const list = listType(field, [...live, ...applied]);
    if (list.type === 'set') return [...live, ...applied.filter((v) => !live.some((l) => sameValue(l, v)))];
    if (list.type !== 'map') return structuredClone(applied);
    const out = [...(live as Record<string, unknown>[])];
    for (const item of applied as Record<string, unknown>[]) {
      const idx = out.findIndex((l) => list.key(l) === list.key(item));
      if (idx >= 0) out[idx] = mergeApplied(out[idx], item) as Record<string, unknown>;
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (!isObject(applied)) return applied;
  const out: Record<string, unknown> = isObject(live) ? { ...live } : {};
  for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(out[k], v, k);
  return out;
}

function conflictError(conflicts: Map<Owner, string[]>): ApiError {
  const total = [...conflicts.values()].reduce((n, paths) => n + paths.length, 0);
  const parts = [...conflicts].map(([o, paths]) =>
    paths.length === 1
      ? `conflict with "${o.entry.manager}"${o.entry.operation === 'Update' ? ` using ${o.entry.apiVersion}` : ''}: ${describePath(paths[0] as string)}`
      : `conflicts with "${o.entry.manager}"${o.entry.operation === 'Update' ? ` using ${o.entry.apiVersion}` : ''}:\n${paths.map((p) => `- ${describePath(p)}`).join('\n')}`,
  );
  const causes = [...conflicts].flatMap(([o, paths]) =>
    paths.map((p) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${o.entry.manager}"${o.entry.operation === 'Update' ? ` using ${o.entry.apiVersion}` : ''}`,
      field: describePath(p),
    })),
  );
  return new ApiError('Conflict', `Apply failed with ${total} conflict${total === 1 ? '' : 's'}: ${parts.join('\n')}`, { causes });
}

/**
 * Server-side apply of `config` by scope.manager onto `live` (absent: the
 * object is created). Returns the object to write, managedFields included.
 */
export function applyConfiguration(live: Obj | undefined, config: Obj, scope: WriteScope, force: boolean): Obj {
  const cfg = structuredClone(config);
  if (scope.subresource === '' && scope.statusSeparate) delete cfg.status;
  const applied = ownable(cfg, scope);
  const list = owners(live);
  const mine = ownerFor(list, scope, 'Apply');
  const previous = new Set(mine.fields);

  const conflicts = new Map<Owner, string[]>();
  for (const o of list) {
    if (o === mine) continue;
    for (const p of applied) {
      if (!o.fields.has(p) || p.endsWith('.') || sameValue(valueAt(live, p), valueAt(cfg, p))) continue;
      conflicts.set(o, [...(conflicts.get(o) ?? []), p]);
    }
  }
  if (conflicts.size > 0 && !force) throw conflictError(conflicts);
  for (const [o, paths] of conflicts) for (const p of paths) o.fields.delete(p);

  const next = mergeApplied(structuredClone(live ?? {}), cfg) as Obj;
  const heldByOthers = (p: string) =>
    list.some((o) => o !== mine && (o.fields.has(p) || (p.endsWith('.') && [...o.fields].some((q) => q.startsWith(p.slice(0, -1))))));
  const dropped = [...previous].filter((p) => !applied.has(p) && !heldByOthers(p)).sort((a, b) => splitPath(b).length - splitPath(a).length);
  // an emptied parent stays only where an owner holds it as it is
  for (const p of dropped) removeAt(next, p, (parent) => list.some((o) => o.fields.has(parent)) || applied.has(parent));

  mine.fields = applied;
  store(next, list);
  return next;
}
