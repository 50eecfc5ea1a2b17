// Fills the cache of type-stripped sources (run by scripts/setup.sh). Stripping
// keeps every position, so stack traces still point into the .ts files.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { CACHE_DIR, ROOT, entryPath } from './cache.mjs';

// the directories bin/skiff runs code from (tests and benches run under vitest or as scripts)
const SOURCE_DIRS = ['cmd', 'agent', 'apimachinery', 'control-plane', 'csi', 'lab', 'supervisor', 'cri-protos'];

function* typescriptFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) yield path;
  }
}

rmSync(CACHE_DIR, { recursive: true, force: true });
mkdirSync(CACHE_DIR, { recursive: true });
let count = 0;
for (const dir of SOURCE_DIRS) {
  for (const file of typescriptFiles(join(ROOT, dir))) {
    const source = readFileSync(file);
    writeFileSync(entryPath(source), stripTypeScriptTypes(source.toString(), { mode: 'strip' }));
    count++;
  }
}
process.stderr.write(`stripped ${count} sources into ${CACHE_DIR}\n`);
