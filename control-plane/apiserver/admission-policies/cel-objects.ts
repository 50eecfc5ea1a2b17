import { celEnvironment } from '../custom-resources/cel-library.ts';

// What mutating admission policies write in CEL beyond the expressions of
// validation: object construction (`Object{spec: Object.spec{replicas: 3}}`,
// `JSONPatch{op: "add", path: "/x", value: 1}`) and jsonpatch.escapeKey.
// cel-js parses no struct literals, so an expression is rewritten first: each
// `Type.path{field: value, ...}` becomes `__object("Type.path", {"field":
// dyn(value), ...})`, a map of its fields (every value dyn, as a typed
// struct's fields may differ in type).

type Token = { text: string; kind: 'ident' | 'string' | 'punct' | 'space' };

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPACE = /(?:\s+|\/\/[^\n]*)+/y;
// raw and bytes prefixes, then triple- or single-quoted; a raw string has no escapes
const STRING = /(?:[rR][bB]?|[bB][rR]?)?(?:"""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')/y;
const KEYWORDS = new Set(['in', 'true', 'false', 'null']);

function tokens(expression: string): Token[] {
  const out: Token[] = [];
  let at = 0;
  const take = (re: RegExp) => {
    re.lastIndex = at;
    return re.exec(expression)?.[0];
  };
  while (at < expression.length) {
    // a string first: its prefix would read as an identifier
    const string = take(STRING);
    const ident = string === undefined ? take(IDENT) : undefined;
    const space = string === undefined && ident === undefined ? take(SPACE) : undefined;
    const text = string ?? ident ?? space ?? (expression[at] as string);
    out.push({ text, kind: string !== undefined ? 'string' : ident !== undefined ? 'ident' : space !== undefined ? 'space' : 'punct' });
    at += text.length;
  }
  return out;
}

/** The index of the next token that is not space, from `i` on. */
const next = (ts: Token[], i: number) => {
  let j = i;
  while (ts[j]?.kind === 'space') j++;
  return j;
};

/**
 * Rewrites the struct literals of an expression into `__object` calls and
 * `jsonpatch.escapeKey` (a namespaced name cel-js cannot declare) into
 * `__jsonpatchEscapeKey`; everything else is left as written.
 */
export function rewriteForCelJs(expression: string): string {
  const ts = tokens(expression);
  let out = '';
  // one frame per open bracket: whether it is a struct literal, and whether a field's value is open in it
  const frames: { struct: boolean; valueOpen: boolean; expectField: boolean }[] = [];
  const top = () => frames[frames.length - 1];
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] as Token;
    const frame = top();
    if (t.text === 'jsonpatch' && ts[i + 1]?.text === '.' && ts[i + 2]?.text === 'escapeKey') {
      out += '__jsonpatchEscapeKey';
      i += 2;
      continue;
    }
    if (t.kind === 'ident' && frame?.struct && frame.expectField) {
      const colon = next(ts, i + 1);
      if (ts[colon]?.text === ':') {
        out += `${JSON.stringify(t.text)}: dyn(`;
        frame.valueOpen = true;
        frame.expectField = false;
        i = colon;
        continue;
      }
    }
    if (t.kind === 'ident' && !KEYWORDS.has(t.text) && ts[i - 1]?.text !== '.') {
      // a qualified name directly followed by `{` is a type being constructed
      let end = i;
      let name = t.text;
      while (ts[end + 1]?.text === '.' && ts[end + 2]?.kind === 'ident') {
        name += `.${(ts[end + 2] as Token).text}`;
        end += 2;
      }
      const brace = next(ts, end + 1);
      if (ts[brace]?.text === '{') {
        out += `__object(${JSON.stringify(name)}, {`;
        frames.push({ struct: true, valueOpen: false, expectField: true });
        i = brace;
        continue;
      }
    }
    if (t.text === '(' || t.text === '[' || t.text === '{') {
      frames.push({ struct: false, valueOpen: false, expectField: false });
    } else if (t.text === ')' || t.text === ']' || t.text === '}') {
      const closed = frames.pop();
      if (closed?.struct) {
        out += `${closed.valueOpen ? ')' : ''}})`;
        continue;
      }
    } else if (t.text === ',' && frame?.struct) {
      out += `${frame.valueOpen ? ')' : ''},`;
      frame.valueOpen = false;
      frame.expectField = true;
      continue;
    }
    out += t.text;
  }
  return out;
}

/** CEL values back to JSON: ints (BigInt) become numbers. */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v)]));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromCel(v)]));
  return value;
}

const mutationEnvironment = celEnvironment.clone();
mutationEnvironment.registerFunction('__object(string, map<string, dyn>): dyn', (_type: string, fields: Record<string, unknown>) => fields);
// RFC 6901's escapes for one key of a path
mutationEnvironment.registerFunction('__jsonpatchEscapeKey(string): string', (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1'));

type Program = ReturnType<typeof mutationEnvironment.parse>;
const programs = new Map<string, Program>();

/** A mutation's expression compiled once (throws when it does not compile). */
export function mutationProgram(expression: string): Program {
  let p = programs.get(expression);
  if (!p) programs.set(expression, (p = mutationEnvironment.parse(rewriteForCelJs(expression))));
  return p;
}
