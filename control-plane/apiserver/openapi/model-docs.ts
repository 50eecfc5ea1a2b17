import { readFileSync } from 'node:fs';

// The descriptions the generator wrote as doc comments into each model's
// declaration file (V1Pod.d.ts): the class's, and each field's with whether
// the field is required (declared without `?`).

export interface ModelDocs {
  description?: string;
  /** by the field's declared (TypeScript) name */
  fields: Record<string, { description?: string; required: boolean }>;
}

const unquote = (s: string) => s.replace(/\\(['"\\])/g, '$1').trim();
const CLASS_DOC = /\/\*\*\n\* ([^\n]*)\n\*\/\nexport declare class /;
const FIELD = /(?:\/\*\*\n\s*\* ([^\n]*)\n\s*\*\/\n)?\s*'([^']+)'(\?)?:/g;

export function parseModelDocs(declaration: string): ModelDocs {
  const docs: ModelDocs = { fields: {} };
  const cls = CLASS_DOC.exec(declaration);
  if (cls?.[1]) docs.description = unquote(cls[1]);
  for (const m of declaration.matchAll(FIELD)) {
    docs.fields[m[2] as string] = { ...(m[1] ? { description: unquote(m[1]) } : {}), required: !m[3] };
  }
  return docs;
}

/** The docs of one model class, or none when its declaration file cannot be read. */
export function readModelDocs(dir: string, cls: string): ModelDocs {
  try {
    return parseModelDocs(readFileSync(`${dir}/${cls}.d.ts`, 'utf8'));
  } catch {
    return { fields: {} };
  }
}
