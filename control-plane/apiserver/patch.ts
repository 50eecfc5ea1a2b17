import fastJsonPatch from 'fast-json-patch';
import { ApiError, errors } from '../../apimachinery/index.ts';
import { listType } from './list-keys.ts';

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Strategic merge patch for the common shapes: maps merge, lists with a
 * known merge key merge by that key (honouring `$patch: delete`), other lists
 * are replaced, and `$`-directives the server does not act on are dropped.
 */
export function strategicMergePatch(target: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(patch)) {
    const list = listType(field, [...patch, ...(Array.isArray(target) ? target : [])]);
    if (list.type !== 'map' || !Array.isArray(target)) return patch.filter((p) => !(p && typeof p === 'object' && '$patch' in p));
    const out = [...(target as Record<string, unknown>[])];
    for (const item of patch as Record<string, unknown>[]) {
      const idx = out.findIndex((t) => list.key(t) === list.key(item));
      if (item.$patch === 'delete') {
        if (idx >= 0) out.splice(idx, 1);
      } else if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item) as Record<string, unknown>;
      else out.push(strategicMergePatch(undefined, item) as Record<string, unknown>);
    }
    return out;
  }
  if (patch === null || typeof patch !== 'object') return patch;
  const p = patch as Record<string, unknown>;
  if (p.$patch === 'replace') {
    const { $patch: _p, ...rest } = p;
    return rest;
  }
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(p)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else out[k] = strategicMergePatch(out[k], v, k);
  }
  return out;
}

export type PatchKind = 'json' | 'merge' | 'strategic';

export function patchKindOf(contentType: string | undefined): PatchKind | 'apply' | null {
  const t = (contentType ?? '').split(';')[0]?.trim();
  if (t === 'application/json-patch+json') return 'json';
  if (t === 'application/merge-patch+json') return 'merge';
  if (t === 'application/strategic-merge-patch+json') return 'strategic';
  if (t === 'application/apply-patch+yaml') return 'apply';
  return null;
}

const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function applyPatch(kind: PatchKind, current: object, patch: unknown): object {
  // a merge patch that is no object would replace the whole object (null: delete it); Kubernetes refuses it
  if (kind === 'merge') {
    if (!isObject(patch)) throw errors.badRequest('Invalid JSON Patch');
    return mergePatch(current, patch) as object;
  }
  if (kind === 'strategic') {
    // a strategic merge patch of null decodes to no changes at all
    if (patch === null) return structuredClone(current);
    if (!isObject(patch))
      throw errors.badRequest(`json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`);
    return strategicMergePatch(current, patch) as object;
  }
  if (!Array.isArray(patch)) throw errors.badRequest('json patch must be a list of operations');
  try {
    return fastJsonPatch.applyPatch(structuredClone(current), patch as fastJsonPatch.Operation[], true, false).newDocument;
  } catch (err) {
    throw new ApiError('Invalid', `the server rejected our request due to an error in our request: ${(err as Error).message}`);
  }
}
