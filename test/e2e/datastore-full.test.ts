// The server's datastore on a small filesystem that fills up: writes are
// refused with a Status saying so, reads and watches go on, the store stays
// sound, and writes resume once space is freed.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBECTL, startTestApiServer, type TestApiServer } from '../../lab/testbed/index.ts';

const run = promisify(execFile);
let dir = '';
let small = '';
let api: TestApiServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-full-'));
  small = join(dir, 'small');
  await mkdir(small);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'skiff-test-full', small]);
  api = await startTestApiServer(dir, [
    '--datastore-endpoint',
    `sqlite://${join(small, 'state.db')}`,
    '--disable-scheduler',
    '--disable-controllers',
    '--disable-snapshots',
  ]);
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await run('umount', [small]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** Fills the small filesystem to its last block with a file of its own. */
async function fill(): Promise<string> {
  const filler = join(small, 'filler');
  const { bavail, bsize } = await statfs(small);
  await writeFile(filler, Buffer.alloc(Number(bavail) * Number(bsize)));
  return filler;
}

describe('a datastore whose disk fills up', () => {
  it('refuses writes with a Status naming the cause, keeps reads and watches, and takes writes again once space is freed', async () => {
    const server = api as TestApiServer;
    await server.kubectl('create', 'configmap', 'before', '--from-literal=k=v');
    const filler = await fill();
    // bigger than what the write-ahead log has room for already
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'during' }, data: { k: 'x'.repeat(900_000) } });
    const refused = await server.kubectlResult(['create', '-f', '-'], big);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('the datastore is out of space (database or disk is full): writes resume once space is freed');
    // reads go on
    expect(await server.kubectl('get', 'configmap', 'before', '-o', 'jsonpath={.data.k}')).toBe('v');
    // a watch opened now hears the next write
    const watch = spawn(KUBECTL, ['get', 'configmaps', '--watch-only', '-o', 'name'], { env: { ...process.env, KUBECONFIG: server.kubeconfig } });
    let seen = '';
    watch.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
    });
    try {
      await new Promise((r) => setTimeout(r, 1000));
      await rm(filler);
      await server.kubectl('create', 'configmap', 'after', '--from-literal=k=v');
      await expect.poll(() => seen, { timeout: 10_000 }).toContain('configmap/after');
    } finally {
      watch.kill();
    }
    expect(await server.kubectl('get', 'configmap', 'during', '-o', 'name').catch((err: Error) => err.message)).toContain('not found');
    // the store is sound
    const db = new DatabaseSync(join(small, 'state.db'), { readOnly: true });
    try {
      expect((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check).toBe('ok');
    } finally {
      db.close();
    }
  });
});
