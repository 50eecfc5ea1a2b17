import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stopPid, waitFor } from '../index.ts';
import { openStorage } from '../../control-plane/index.ts';
import { spawnLogged } from './api-server.ts';
import { freePort } from './node.ts';

export interface TestEtcd {
  /** host:port of each member's client URL */
  endpoints: string[];
  /** SIGKILLs one member */
  kill(index: number): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's etcd on loopback ports: `members` processes forming one cluster, data under `dir`. */
export async function startTestEtcd(dir: string, members: number): Promise<TestEtcd> {
  const ports = [];
  for (let i = 0; i < members; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initialCluster = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
  const procs: (ChildProcess | undefined)[] = [];
  for (const [i, p] of ports.entries()) {
    await mkdir(join(dir, `m${i}`), { recursive: true });
    procs.push(
      await spawnLogged(
        [
          'etcd',
          '--name',
          `m${i}`,
          '--data-dir',
          join(dir, `m${i}`),
          '--listen-client-urls',
          `http://127.0.0.1:${p.client}`,
          '--advertise-client-urls',
          `http://127.0.0.1:${p.client}`,
          '--listen-peer-urls',
          `http://127.0.0.1:${p.peer}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${p.peer}`,
          '--initial-cluster',
          initialCluster,
          '--initial-cluster-state',
          'new',
          '--initial-cluster-token',
          `skiff-test-${process.pid}-${ports[0]?.client}`,
          '--log-level',
          'warn',
        ],
        join(dir, `m${i}.log`),
      ),
    );
  }
  const endpoints = ports.map((p) => `127.0.0.1:${p.client}`);
  const stop = async () => {
    for (const p of procs) if (p?.pid && p.exitCode === null) await stopPid(p.pid, 10_000);
  };
  const probe = await openStorage(`etcd://${endpoints.join(',')}`);
  try {
    await waitFor('etcd to serve', async () => (await probe.currentRevision().catch(() => 0)) > 0, 30_000, 200);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await probe.close();
  }
  return {
    endpoints,
    stop,
    async kill(index: number) {
      const p = procs[index];
      if (p?.pid && p.exitCode === null) {
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGKILL');
        await exited;
      }
    },
  };
}
