import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../lab/testbed/index.ts';

// skiff server restarted on its own state: what it published at first start
// (kube-dns) and what it allocated (ClusterIPs, NodePorts) carries over.

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
});
