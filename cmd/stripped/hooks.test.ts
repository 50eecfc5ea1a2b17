import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript (it runs before Node can strip types), no declarations
import { entryPath } from './cache.mjs';

// bin/skiff's load hook against the cache setup fills: skiff's modules run
// from their stripped copies without Node's stripper; a module the cache does
// not hold still runs, stripped by Node.

const run = promisify(execFile);
const NODE = process.execPath;
const HOOKS = fileURLToPath(new URL('./hooks.mjs', import.meta.url));
const SKIFF_TS = fileURLToPath(new URL('../skiff.ts', import.meta.url));
let dir: string;
let reportStripper: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-stripped-'));
  reportStripper = join(dir, 'report.mjs');
  // prints, as the process ends, whether Node's type stripper was ever loaded
  await writeFile(
    reportStripper,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the script this writes uses a template literal of its own
    "process.on('exit', () => process.stderr.write(`stripper=${process.moduleLoadList.some((m) => m.includes('amaro'))}\\n`));\n",
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const runWithHooks = (script: string, ...args: string[]) =>
  run(NODE, ['--disable-warning=ExperimentalWarning', `--import=${reportStripper}`, `--import=${HOOKS}`, script, ...args]);

describe('stripped sources', () => {
  it('holds a copy of each source under the hash of its text', async () => {
    const path = entryPath(await readFile(SKIFF_TS));
    expect(existsSync(path), 'no stripped copy of cmd/skiff.ts: setup (bash scripts/setup.sh) makes them').toBe(true);
    const entry = await readFile(path, 'utf8');
    expect(entry).toContain("await import('./server.ts')");
    expect(entry).not.toMatch(/Record<string, \(argv: string\[\]\) => Promise<void>>/);
  });

  it('runs skiff from the cache without loading the stripper', async () => {
    const { stderr } = await runWithHooks(SKIFF_TS, '--help');
    expect(stderr).toContain('usage: skiff <command>');
    expect(stderr).toContain('stripper=false');
  });

  it('leaves a module the cache does not hold to Node', async () => {
    const script = join(dir, 'edited.ts');
    await writeFile(script, 'const n: number = 41;\nconsole.log(n + 1);\n');
    const { stdout, stderr } = await runWithHooks(script);
    expect(stdout).toBe('42\n');
    expect(stderr).toContain('stripper=true');
  });
});
