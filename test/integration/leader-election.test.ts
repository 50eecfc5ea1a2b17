import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../lab/testbed/index.ts';
import { startTestEtcd, type TestEtcd } from '../../lab/testbed/index.ts';

// Two `skiff server` processes on one etcd: one holds the scheduler and
// controller-manager Leases and acts; killed, the other takes over.

let dir: string;
let etcd: TestEtcd;
const servers: TestApiServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-leader-'));
  etcd = await startTestEtcd(join(dir, 'etcd'), 1);
  const endpoint = `etcd://${etcd.endpoints.join(',')}`;
  for (const name of ['a', 'b']) servers.push(await startTestApiServer(join(dir, name), ['--datastore-endpoint', endpoint]));
}, 90_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  await etcd?.stop();
  if (!process.env.SKIFF_TEST_KEEP) await rm(dir, { recursive: true, force: true });
});

/** The identity a server elects under, from its log. */
async function identityOf(name: string): Promise<string> {
  const log = await readFile(join(dir, name, 'server.log'), 'utf8');
  const line = log.split('\n').find((l) => l.includes('"leader election identity"'));
  return (JSON.parse(line ?? '{}') as { identity?: string }).identity ?? '';
}

const holder = (api: TestApiServer, lease: string) => api.kubectl('get', 'lease', lease, '-n', 'kube-system', '-o', 'jsonpath={.spec.holderIdentity}');

describe('leader election', () => {
  it('lets one server act and hands over to the other when it dies', async () => {
    const ids = { a: await identityOf('a'), b: await identityOf('b') };
    const [a, b] = servers as [TestApiServer, TestApiServer];
    await expect.poll(() => holder(a, 'kube-controller-manager'), { timeout: 30_000 }).toMatch(/\S/);
    const leaderId = await holder(a, 'kube-controller-manager');
    expect([ids.a, ids.b]).toContain(leaderId);
    expect(await holder(a, 'kube-scheduler')).toMatch(/\S/);
    const [leader, standby, standbyId] = leaderId === ids.a ? [a, b, ids.b] : [b, a, ids.a];
    const transitions = Number(
      await standby.kubectl('get', 'lease', 'kube-controller-manager', '-n', 'kube-system', '-o', 'jsonpath={.spec.leaseTransitions}'),
    );

    leader.server.kill('SIGKILL');
    await expect.poll(() => holder(standby, 'kube-controller-manager'), { timeout: 60_000, interval: 500 }).toBe(standbyId);
    expect(Number(await standby.kubectl('get', 'lease', 'kube-controller-manager', '-n', 'kube-system', '-o', 'jsonpath={.spec.leaseTransitions}'))).toBe(
      transitions + 1,
    );
    // the new leader's controllers act
    await standby.kubectl('create', 'deployment', 'after-failover', '--image=busybox');
    await expect
      .poll(() => standby.kubectl('get', 'rs', '-l', 'app=after-failover', '-o', 'name'), { timeout: 30_000 })
      .toMatch(/replicaset.apps\/after-failover-/);
  }, 120_000);
});
