import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestClient, loadKubeconfig } from '../../apimachinery/index.ts';
import { startTestApiServer, type TestApiServer } from '../../lab/testbed/index.ts';

// skiff server restarted on its own state: what it published at first start
// (kube-dns) and what it allocated (ClusterIPs, NodePorts) carries over; and
// SIGKILLed in the middle of 16 writing clients it loses no write it
// acknowledged, its SQLite store whole.

let dir: string;
let api: TestApiServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-restart-'));
});

afterAll(async () => {
  await api?.stop();
  if (!process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
});

describe('server restart', () => {
  it('comes back with its Services, DNS and allocations', async () => {
    api = await startTestApiServer(dir, ['--disable-scheduler']);
    await api.kubectl('create', 'service', 'nodeport', 'web', '--tcp=80:8080', '--node-port=30111');
    const before = await api.kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}');
    await api.stop();

    api = await startTestApiServer(dir, ['--disable-scheduler']);
    expect(await api.kubectl('get', 'service', 'kube-dns', '-n', 'kube-system', '-o', 'jsonpath={.spec.clusterIP}')).toBe('10.96.0.10');
    expect(await api.kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}')).toBe(before);
    const clash = await api.kubectlResult(['create', 'service', 'nodeport', 'other', '--tcp=80:8080', '--node-port=30111']);
    expect(clash.stderr).toContain('provided port is already allocated');
  });

  it('loses no write it acknowledged when SIGKILLed among 16 writing clients, twice over, and its store stays whole', async () => {
    api ??= await startTestApiServer(dir, ['--disable-scheduler']);
    const configMaps = { resource: 'configmaps', namespace: 'default' };
    const acknowledged: string[] = [];
    for (let round = 0; round < 2; round++) {
      const server = api as TestApiServer;
      const client = new RestClient(await loadKubeconfig(server.kubeconfig));
      let stop = false;
      const writers = Array.from({ length: 16 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const name = `r${round}-w${w}-${i}`;
          try {
            await client.create(configMaps, { metadata: { name } });
            acknowledged.push(name);
          } catch {
            // refused or cut off by the kill: not acknowledged, so not counted
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      });
      const before = acknowledged.length;
      await expect.poll(() => acknowledged.length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(before + 300);
      const exited = once(server.server, 'exit');
      server.server.kill('SIGKILL');
      await exited;
      stop = true;
      await Promise.all(writers);
      client.close();
      api = await startTestApiServer(dir, ['--disable-scheduler'], { port: server.port });
      const reader = new RestClient(await loadKubeconfig(api.kubeconfig));
      const stored = new Set((await reader.get<{ items: { metadata: { name: string } }[] }>(configMaps)).items.map((i) => i.metadata.name));
      reader.close();
      expect(acknowledged.filter((n) => !stored.has(n))).toEqual([]);
    }
    const db = new DatabaseSync(join(dir, 'state.db'), { readOnly: true });
    try {
      expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    } finally {
      db.close();
    }
  });
});
