// Registered with --import by bin/skiff: a .ts module whose stripped copy is
// in the cache is run from it; any other (edited since the last setup) goes
// through Node's own stripper as before, so the cache only saves memory.
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ROOT, entryPath } from './cache.mjs';

const ROOT_URL = new URL(ROOT, 'file:').href;

registerHooks({
  load(url, context, nextLoad) {
    if (!url.startsWith(ROOT_URL) || !url.endsWith('.ts') || url.includes('/node_modules/')) return nextLoad(url, context);
    try {
      const source = readFileSync(entryPath(readFileSync(fileURLToPath(url))), 'utf8');
      return { format: 'module', source, shortCircuit: true };
    } catch {
      return nextLoad(url, context);
    }
  },
});
