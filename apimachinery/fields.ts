// Field selectors (?fieldSelector=spec.nodeName=node1,status.phase!=Failed).
// A field is a dotted path into the object; which paths a resource accepts is
// decided by the API server, matching is the same everywhere.

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export type FieldSelector = FieldRequirement[];

export class FieldSelectorParseError extends Error {}

export function parseFieldSelector(s: string | null | undefined): FieldSelector {
  if (!s) return [];
  return s
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((term) => {
      const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
      if (!m) throw new FieldSelectorParseError(`invalid selector: '${term}'; can't understand '${term}'`);
      return { field: (m[1] ?? '').trim(), op: m[2] === '!=' ? '!=' : '=', value: (m[3] ?? '').trim() };
    });
}

/**
 * The value at a dotted path, as field selectors, scale paths and printer
 * columns name one (`spec.replicas`, `.status.conditions[0].type`); undefined when absent.
 */
export function valueAtPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path
    .replace(/^\./, '')
    .split(/\.|(?=\[)/)
    .filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const index = /^\[(\d+)\]$/.exec(part);
    cur = index ? (cur as unknown[])[Number(index[1])] : (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The value of a dotted path as a field selector compares it: missing → "". */
export function fieldValue(obj: unknown, path: string): string {
  const cur = valueAtPath(obj, path);
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function matchesFields(sel: FieldSelector, obj: unknown): boolean {
  return sel.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}
