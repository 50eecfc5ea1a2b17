import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceFile } from './replace-file.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-replace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('replaceFile', () => {
  it('never shows a reader a partial file while it is rewritten', async () => {
    const path = join(dir, 'data.json');
    const doc = (i: number) => JSON.stringify({ i, padding: 'x'.repeat(64 * 1024) });
    await replaceFile(path, doc(0));
    let writing = true;
    const seen: number[] = [];
    const reader = (async () => {
      while (writing) seen.push((JSON.parse(await readFile(path, 'utf8')) as { i: number }).i);
    })();
    for (let i = 1; i <= 200; i++) await replaceFile(path, doc(i));
    writing = false;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(path, 'utf8')).i).toBe(200);
    expect(await readdir(dir)).toEqual(['data.json']);
  });
});
