// npm run bench -- [--compare] [--record] [<scenario> ...] [--<option> <value> ...]:
// runs each scenario in a fresh process, with the options (soak's --minutes N);
// each prints one JSON object per case on stdout (prose goes to stderr).
// --compare prints every figure against its record in bench/figures.json
// (on stderr); --record makes this run's figures the record.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compareFigures, figuresOf, renderComparison, type Figures, type FiguresOfRecord } from './figures.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const RECORD = `${dir}figures.json`;
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''));
const args = process.argv.slice(2);
const compare = args.includes('--compare');
const record = args.includes('--record');
const wanted: string[] = [];
/** options (with their values) for the scenarios */
const options: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (a === '--compare' || a === '--record') continue;
  if (a.startsWith('--')) options.push(a, args[++i] ?? '');
  else wanted.push(a);
}
const scenarios = wanted.length ? wanted : available;

/** Runs a scenario, passing its output through, and returns what it printed on stdout. */
function runScenario(s: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${dir}${s}.bench.ts`, ...options], { stdio: ['inherit', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`scenario ${s} exited with ${code}`))));
  });
}

for (const s of scenarios) {
  if (!available.includes(s)) {
    process.stderr.write(`unknown scenario ${s}; available: ${available.join(', ')}\n`);
    process.exit(2);
  }
}
const now: Figures = {};
for (const s of scenarios) {
  try {
    Object.assign(now, figuresOf(s, await runScenario(s)));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
const previous = JSON.parse(await readFile(RECORD, 'utf8').catch(() => '{"figures":{}}')) as FiguresOfRecord;
if (compare)
  process.stderr.write(
    `\nagainst the figures of record (${previous.commit ?? 'none'}, ${previous.date ?? '-'}):\n${renderComparison(compareFigures(previous.figures, now))}\n`,
  );
if (record) {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const next: FiguresOfRecord = { machine, date: new Date().toISOString().slice(0, 10), commit, figures: { ...previous.figures, ...now } };
  await writeFile(RECORD, `${JSON.stringify(next, null, 2)}\n`);
  process.stderr.write(`recorded ${Object.keys(now).length} cases in bench/figures.json\n`);
}
