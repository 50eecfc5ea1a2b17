// Label selectors in the string form clients send (?labelSelector=…):
// equality (a=b, a==b, a!=b) and set-based (a in (x,y), a notin (x), a, !a).

export type Requirement = { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | 'doesnotexist' };

export type LabelSelector = Requirement[];

export class SelectorParseError extends Error {}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 316) throw new SelectorParseError(`invalid label key "${key}"`);
  return key;
}

function checkValue(v: string): string {
  if (!VALUE.test(v) || v.length > 63) throw new SelectorParseError(`invalid label value: "${v}"`);
  return v;
}

export function parseLabelSelector(s: string | null | undefined): LabelSelector {
  if (!s) return [];
  return splitTerms(s).map((term): Requirement => {
    let m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(term);
    if (m) {
      const values = (m[3] ?? '').split(',').map((v) => checkValue(v.trim()));
      return { key: checkKey(m[1] ?? ''), op: m[2] as 'in' | 'notin', values };
    }
    m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (m) {
      const value = checkValue((m[3] ?? '').trim());
      return { key: checkKey(m[1] ?? ''), op: m[2] === '!=' ? 'notin' : 'in', values: [value] };
    }
    if (term.startsWith('!')) return { key: checkKey(term.slice(1).trim()), op: 'doesnotexist' };
    return { key: checkKey(term), op: 'exists' };
  });
}

export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key] as string);
      case 'notin':
        return !has || !r.values.includes(l[r.key] as string);
    }
  });
}

/** Renders a matchLabels map as a selector string. */
export function formatLabelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** A metav1.LabelSelector (matchLabels and matchExpressions), as objects carry it. */
export interface ObjectLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Turns an object's label selector into requirements; throws SelectorParseError on a bad operator. */
export function fromObjectSelector(sel: ObjectLabelSelector): LabelSelector {
  const reqs: Requirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'in', values: [v] }));
  for (const e of sel.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (!e.values?.length) throw new SelectorParseError(`for '${e.operator}' operator, values set can't be empty`);
        reqs.push({ key: e.key, op: e.operator === 'In' ? 'in' : 'notin', values: e.values });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (e.values?.length) throw new SelectorParseError(`values set must be empty for exists and does not exist`);
        reqs.push({ key: e.key, op: e.operator === 'Exists' ? 'exists' : 'doesnotexist' });
        break;
      default:
        throw new SelectorParseError(`"${e.operator}" is not a valid label selector operator`);
    }
  }
  return reqs;
}

/** The string form of requirements (what Scale.status.selector carries). */
export function selectorString(sel: LabelSelector): string {
  return sel
    .map((r): string => {
      if (!('values' in r)) return r.op === 'exists' ? r.key : `!${r.key}`;
      if (r.values.length === 1) return `${r.key}${r.op === 'in' ? '=' : '!='}${r.values[0]}`;
      return `${r.key} ${r.op} (${[...r.values].sort().join(',')})`;
    })
    .join(',');
}
