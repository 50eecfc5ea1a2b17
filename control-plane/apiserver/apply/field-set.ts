import { isObject, listType } from '../list-keys.ts';

// Sets of field paths, the unit of ownership in managedFields. A path is a
// list of elements as FieldsV1 spells them: `f:spec` (a field), `k:{"name":"c"}`
// (a keyed list item), `v:"x"` (a set list value), `.` (the item itself).
// Paths are kept joined by NUL so a set is a plain Set<string>.

export type FieldSet = Set<string>;
const SEP = '\u0000';

export const joinPath = (elements: string[]): string => elements.join(SEP);
export const splitPath = (path: string): string[] => (path === '' ? [] : path.split(SEP));

/** The leaf paths of a value: every scalar, atomic list, empty map, list item and set value in it. */
export function fieldsOf(value: unknown): FieldSet {
  const out: FieldSet = new Set();
  const walk = (v: unknown, field: string, prefix: string[]) => {
    if (Array.isArray(v)) {
      const list = listType(field, v);
      if (list.type === 'map' && v.length > 0) {
        for (const item of v as Record<string, unknown>[]) {
          const el = `k:${list.key(item)}`;
          out.add(joinPath([...prefix, el, '.']));
          walkMap(item, [...prefix, el]);
        }
      } else if (list.type === 'set' && v.length > 0) {
        for (const item of v) out.add(joinPath([...prefix, `v:${JSON.stringify(item)}`]));
      } else out.add(joinPath(prefix));
      return;
    }
    if (isObject(v) && Object.keys(v).length > 0) return walkMap(v, prefix);
    out.add(joinPath(prefix));
  };
  const walkMap = (m: Record<string, unknown>, prefix: string[]) => {
    for (const [k, v] of Object.entries(m)) walk(v, k, [...prefix, `f:${k}`]);
  };
  if (isObject(value)) walkMap(value, []);
  return out;
}

const ABSENT = Symbol('absent');

/** The value at a path, or ABSENT. */
export function valueAt(root: unknown, path: string): unknown {
  let cur: unknown = root;
  let field = '';
  for (const el of splitPath(path)) {
    if (el === '.') continue;
    if (el.startsWith('f:')) {
      field = el.slice(2);
      if (!isObject(cur) || !(field in cur)) return ABSENT;
      cur = cur[field];
    } else if (Array.isArray(cur)) {
      const list = listType(field, cur);
      const want = el.slice(2);
      const found =
        el.startsWith('k:') && list.type === 'map'
          ? (cur as Record<string, unknown>[]).find((item) => list.key(item) === want)
          : cur.find((item) => JSON.stringify(item) === want);
      if (found === undefined) return ABSENT;
      cur = found;
    } else return ABSENT;
  }
  return cur;
}

export const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Removes what a path names from `root`: a field, a keyed list item (its `.`),
 * or a set value. A map or list this empties goes too, as structured-merge-diff
 * prunes them, unless `held` says someone owns it as it is (an empty map set on
 * purpose).
 */
export function removeAt(root: unknown, path: string, held: (path: string) => boolean = () => false): void {
  const elements = splitPath(path);
  const last = elements.at(-1) === '.' ? elements.length - 2 : elements.length - 1;
  if (last < 0) return;
  const parentPath = joinPath(elements.slice(0, last));
  const parent = valueAt(root, parentPath);
  const el = elements[last] as string;
  if (el.startsWith('f:')) {
    if (!isObject(parent) || !(el.slice(2) in parent)) return;
    delete parent[el.slice(2)];
    // the map it emptied (strategy.rollingUpdate, resources.limits) goes with it; an object's own root stays
    if (Object.keys(parent).length === 0 && last > 0 && elements[last - 1]?.startsWith('f:') && !held(parentPath)) removeAt(root, parentPath, held);
    return;
  }
  const field =
    [...elements.slice(0, last)]
      .reverse()
      .find((e) => e.startsWith('f:'))
      ?.slice(2) ?? '';
  if (!Array.isArray(parent)) return;
  const list = listType(field, parent);
  const want = el.slice(2);
  const idx =
    el.startsWith('k:') && list.type === 'map'
      ? (parent as Record<string, unknown>[]).findIndex((item) => list.key(item) === want)
      : parent.findIndex((item) => JSON.stringify(item) === want);
  if (idx >= 0) parent.splice(idx, 1);
  // a list whose last item went goes too, as if it had never been set
  if (parent.length === 0 && !held(parentPath)) removeAt(root, parentPath, held);
}

/** FieldsV1, the nested form managedFields stores: every path element a key, leaves `{}`. */
export function toFieldsV1(set: FieldSet): Record<string, unknown> {
  const root: Record<string, Record<string, unknown>> = {};
  for (const path of [...set].sort()) {
    let node: Record<string, unknown> = root;
    for (const el of splitPath(path)) node = (node[el] ??= {}) as Record<string, unknown>;
  }
  return root;
}

export function fromFieldsV1(fields: unknown): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: unknown, prefix: string[]) => {
    const entries = isObject(node) ? Object.entries(node) : [];
    if (entries.length === 0 && prefix.length > 0) out.add(joinPath(prefix));
    for (const [el, child] of entries) walk(child, [...prefix, el]);
  };
  walk(fields, []);
  return out;
}

/** A path as conflicts name it: `.spec.containers[name="c"].image`. */
export function describePath(path: string): string {
  return splitPath(path)
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`;
      if (el.startsWith('k:'))
        return `[${Object.entries(JSON.parse(el.slice(2)) as Record<string, unknown>)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      if (el.startsWith('v:')) return `[=${el.slice(2)}]`;
      return '';
    })
    .join('');
}

export { ABSENT };
