// npm run bench -- <scenario> [...]: runs each scenario in a fresh process;
// each prints one JSON object per case on stdout (prose goes to stderr).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''));
const wanted = process.argv.slice(2);
const scenarios = wanted.length ? wanted : available;
for (const s of scenarios) {
  if (!available.includes(s)) {
    process.stderr.write(`unknown scenario ${s}; available: ${available.join(', ')}\n`);
    process.exit(2);
  }
  const r = spawnSync(process.execPath, [`${dir}${s}.bench.ts`], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
