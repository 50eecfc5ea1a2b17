// The two storage backends the API benchmarks compare: a bare API server
// (no scheduler, no controllers) on SQLite, then on a 3-member etcd.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer, type TestApiServer } from '../lab/testbed/index.ts';
import { startTestEtcd } from '../lab/testbed/index.ts';

export async function onEachBackend(name: string, run: (api: TestApiServer, backend: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `sk-bench-${name}-`));
  const withServer = async (backend: string, serverDir: string, args: string[]) => {
    const api = await startTestApiServer(serverDir, [...args, '--disable-scheduler', '--disable-controllers', '--log-level', 'warn']);
    try {
      await run(api, backend);
    } finally {
      await api.stop();
    }
  };
  try {
    await withServer('sqlite', join(dir, 'sqlite'), []);
    const etcd = await startTestEtcd(join(dir, 'etcd'), 3);
    try {
      await withServer('etcd-3', join(dir, 'etcd-server'), ['--datastore-endpoint', `etcd://${etcd.endpoints.join(',')}`]);
    } finally {
      await etcd.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
