// Leader failover: two skiff servers on one etcd; the one holding the
// kube-controller-manager Lease is killed (SIGKILL), and the time until the
// other holds it is measured, five times. One JSON line.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RestClient, loadKubeconfig } from '../apimachinery/index.ts';
import { waitFor } from '../lab/index.ts';
import { startTestApiServer, type TestApiServer } from '../lab/testbed/index.ts';
import { startTestEtcd } from '../lab/testbed/index.ts';

const ROUNDS = 5;

async function identityOf(dir: string): Promise<string> {
  const line = (await readFile(join(dir, 'server.log'), 'utf8')).split('\n').find((l) => l.includes('"leader election identity"'));
  return (JSON.parse(line ?? '{}') as { identity?: string }).identity ?? '';
}

async function holder(api: TestApiServer): Promise<string> {
  const client = new RestClient(await loadKubeconfig(api.kubeconfig));
  try {
    return (
      (
        await client.get<{ spec?: { holderIdentity?: string } }>({
          group: 'coordination.k8s.io',
          resource: 'leases',
          namespace: 'kube-system',
          name: 'kube-controller-manager',
        })
      ).spec?.holderIdentity ?? ''
    );
  } finally {
    client.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'sk-bench-failover-'));
const etcd = await startTestEtcd(join(dir, 'etcd'), 1);
const endpoint = ['--datastore-endpoint', `etcd://${etcd.endpoints.join(',')}`];
const servers: { api: TestApiServer; dir: string }[] = [];
const takeovers: number[] = [];
try {
  for (const name of ['a', 'b']) servers.push({ api: await startTestApiServer(join(dir, name), endpoint), dir: join(dir, name) });
  for (let round = 0; round < ROUNDS; round++) {
    const ids = await Promise.all(servers.map((s) => identityOf(s.dir)));
    let leaderIndex = -1;
    await waitFor(
      'a leader',
      async () => {
        const h = await holder(servers[servers.length - 1]?.api as TestApiServer).catch(() => '');
        leaderIndex = ids.indexOf(h);
        return leaderIndex >= 0;
      },
      60_000,
      200,
    );
    const leader = servers[leaderIndex] as (typeof servers)[number];
    const standby = servers[1 - leaderIndex] as (typeof servers)[number];
    const standbyId = ids[1 - leaderIndex] as string;
    const killed = performance.now();
    leader.api.server.kill('SIGKILL');
    await waitFor('the standby taking the lease', async () => (await holder(standby.api)) === standbyId, 60_000, 100);
    takeovers.push((performance.now() - killed) / 1000);
    // bring a fresh server up in the killed one's place
    const fresh = join(dir, `r${round}`);
    servers[leaderIndex] = { api: await startTestApiServer(fresh, endpoint), dir: fresh };
  }
  takeovers.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      scenario: 'leader-failover',
      rounds: ROUNDS,
      leaseSeconds: 12,
      takeoverSecondsMin: +(takeovers[0] ?? 0).toFixed(1),
      takeoverSecondsMax: +(takeovers[ROUNDS - 1] ?? 0).toFixed(1),
    }),
  );
} finally {
  for (const s of servers) await s.api.stop();
  await etcd.stop();
  await rm(dir, { recursive: true, force: true });
}
