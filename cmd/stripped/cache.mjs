// Where skiff's type-stripped sources are kept, and under which name.
// Plain JavaScript on purpose: this is loaded before Node can run TypeScript
// without loading its type stripper (~25 MB resident in every process).
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CACHE_DIR = `${ROOT}.cache/stripped`;

/** Entries are named by the hash of the TypeScript source, so one can never be stale. */
export function entryPath(source) {
  return `${CACHE_DIR}/${createHash('sha1').update(source).digest('hex')}.js`;
}
