// A soak on a 2-node lab: for --minutes N (3 unless said), rounds of a mixed
// workload — a Deployment with probes scaled up and down behind a Service,
// a Service made and removed, a Job, a pod with a new PersistentVolumeClaim
// (the bundled CSI driver) — while the API server's and the agents' RSS and
// event-loop delay (p99 since the last scrape) are sampled every 10 s. At the
// end everything is deleted and each node is checked for what it still holds:
// sandboxes, containers, veths, IPAM addresses, pod cgroups, volume mounts and
// loop devices, network namespaces and nft set elements beyond what it held
// before the soak. RSS at the end is compared with RSS after warm-up (the
// first fifth of the run, at least a minute).
import { execFile } from 'node:child_process';
import { Agent } from 'node:https';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { CriClient } from '../agent/index.ts';
import { RestClient, loadKubeconfig } from '../apimachinery/index.ts';
import { installStorageDefaults, readPid, waitFor, type LabNode } from '../lab/index.ts';
import { leaksOn, startTestLab, type NodeLeaks } from '../lab/testbed/index.ts';
import { scrape } from './client.ts';
import { rssKiB } from './rss.ts';

const run = promisify(execFile);
const { values } = parseArgs({ options: { minutes: { type: 'string', default: '3' } } });
const MINUTES = Number(values.minutes);
const SAMPLE_MS = 10_000;
const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
const log = (s: string) => process.stderr.write(`soak bench: ${s}\n`);

const WEB = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {soak: 'yes'}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: busybox
        command: [sh, -c, 'echo ok > /tmp/index.html && exec httpd -f -p 8080 -h /tmp']
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
        livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 5}
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {soak: 'yes'}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

const round = (r: number) => `
apiVersion: v1
kind: Service
metadata: {name: churn-${r}, labels: {soak: 'yes'}}
spec:
  selector: {app: web}
  ports: [{port: 81, targetPort: 8080}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch-${r}, labels: {soak: 'yes'}}
spec:
  completions: 2
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: busybox, command: [sh, -c, 'sleep 2']}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-${r}, labels: {soak: 'yes'}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: keeper-${r}, labels: {soak: 'yes'}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: busybox, command: [sh, -c, 'echo ${r} > /data/round && exec sleep 3600'], volumeMounts: [{name: data, mountPath: /data}]}
  volumes: [{name: data, persistentVolumeClaim: {claimName: data-${r}}}]
`;

/** The value of a gauge in a Prometheus text exposition. */
function gauge(text: string, name: string): number | null {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** What a lab node holds beyond pods' own things: its loop devices, the host's network namespaces, its nft set and map elements (`table set: element`). */
async function nodeExtras(n: LabNode): Promise<{ loopDevices: number; netns: number; nftElements: string[] }> {
  const loops = (await run('losetup', ['-l', '-n', '-O', 'BACK-FILE'])).stdout.split('\n').filter((l) => l.includes(n.dir));
  const netns = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith('cni-'));
  const ruleset = JSON.parse((await run('ip', ['netns', 'exec', n.netns, 'nft', '-j', 'list', 'ruleset'])).stdout) as {
    nftables: Record<string, { table?: string; name?: string; elem?: unknown[] }>[];
  };
  const nftElements: string[] = [];
  for (const o of ruleset.nftables)
    for (const s of [o.set, o.map]) for (const e of s?.elem ?? []) nftElements.push(`${s?.table} ${s?.name}: ${JSON.stringify(e)}`);
  return { loopDevices: loops.length, netns: netns.length, nftElements: nftElements.sort() };
}

const lab = await startTestLab('soak', 236, 2);
const cfg = await loadKubeconfig(lab.kubeconfig);
const client = new RestClient(cfg);
const scrapes = new Agent({ keepAlive: true });
try {
  await installStorageDefaults(client);
  // the start the nodes are compared with at the end: once every node's proxy holds the cluster's Services (they agree)
  let before = await Promise.all(lab.nodes.map(nodeExtras));
  await waitFor(
    "the nodes' proxies to hold the cluster's Services",
    async () => {
      before = await Promise.all(lab.nodes.map(nodeExtras));
      return before.every((b) => b.nftElements.length > 0 && b.nftElements.join() === before[0]?.nftElements.join());
    },
    60_000,
    1000,
  );
  const agentPids = await Promise.all(lab.nodes.map(async (n) => (await readPid(join(n.dir, 'agent.pid'))) ?? undefined));
  const lagMs = async (path: string) => {
    const { text } = await scrape(cfg, scrapes, path).catch(() => ({ text: '' }));
    const p99 = gauge(text, 'nodejs_eventloop_lag_p99_seconds');
    return p99 === null ? null : Math.round(p99 * 10_000) / 10;
  };
  const rssNow = async () => ({ server: await rssKiB(lab.server.pid), agents: await Promise.all(agentPids.map((pid) => rssKiB(pid))) });
  const started = performance.now();
  const curve: { t_s: number; server_rss_kib: number; agent_rss_kib: number[]; server_lag_p99_ms: number | null; agent_lag_p99_ms: (number | null)[] }[] = [];
  const sample = async () => {
    const rss = await rssNow();
    curve.push({
      t_s: Math.round((performance.now() - started) / 1000),
      server_rss_kib: rss.server,
      agent_rss_kib: rss.agents,
      server_lag_p99_ms: await lagMs('/metrics'),
      agent_lag_p99_ms: await Promise.all(lab.nodes.map((n) => lagMs(`/api/v1/nodes/${n.name}/proxy/metrics`))),
    });
  };
  // a first scrape starts each process's delay histogram afresh
  await sample();
  curve.length = 0;
  const sampler = setInterval(() => void sample().catch((err: Error) => log(`sample failed: ${err.message}`)), SAMPLE_MS);

  await lab.kubectlResult(['apply', '-f', '-'], WEB);
  const endAt = started + MINUTES * 60_000;
  const warmUntil = started + Math.max(60_000, MINUTES * 12_000);
  let rounds = 0;
  let warm: { server: number; agents: number[] } | undefined;
  while (performance.now() < endAt) {
    const r = rounds++;
    await lab.kubectl('scale', 'deployment', 'web', `--replicas=${2 + (r % 5)}`);
    const applied = await lab.kubectlResult(['apply', '-f', '-'], round(r));
    if (applied.code !== 0) log(`round ${r}: ${applied.stderr.trim()}`);
    if (r > 0) await lab.kubectlResult(['delete', `pod/keeper-${r - 1}`, `pvc/data-${r - 1}`, `service/churn-${r - 1}`, '--wait=false']);
    if (r > 1) await lab.kubectlResult(['delete', 'job', `batch-${r - 2}`, '--cascade=background', '--wait=false']);
    await new Promise((res) => setTimeout(res, 15_000));
    if (!warm && performance.now() >= warmUntil) {
      warm = await rssNow();
      log(`warm after ${rounds} rounds: server ${warm.server} KiB, agents ${warm.agents.join(' + ')} KiB`);
    }
  }
  const end = await rssNow();
  clearInterval(sampler);
  await sample();

  log(`${rounds} rounds done; deleting everything`);
  await lab.kubectl('delete', 'deployments,services,jobs,pods,persistentvolumeclaims', '-l', 'soak=yes', '--wait=false');
  await lab.kubectlResult(['delete', 'pods', '--all', '--wait=false']);
  await waitFor(
    'every pod and volume gone',
    async () =>
      (await client.get<{ items: unknown[] }>({ resource: 'pods', namespace: 'default' })).items.length === 0 &&
      (await client.get<{ items: unknown[] }>({ resource: 'persistentvolumes' })).items.length === 0,
    180_000,
    1000,
  );
  const leaks: (NodeLeaks & { loopDevices: number; netns: number; nftElements: string[] })[] = [];
  await waitFor(
    'the nodes to let go of everything',
    async () => {
      leaks.length = 0;
      for (const [i, n] of lab.nodes.entries()) {
        const cri = new CriClient(n.socket);
        try {
          const held = await leaksOn({
            cri,
            bridge: 'cni0',
            netns: n.netns,
            ipamDir: join(n.dir, 'ipam'),
            cgroupRoot: n.name,
            agentRoot: join(n.dir, 'agent'),
          });
          const extras = await nodeExtras(n);
          const was = before[i] as typeof extras;
          leaks.push({
            ...held,
            loopDevices: extras.loopDevices - was.loopDevices,
            netns: extras.netns - was.netns,
            nftElements: extras.nftElements.filter((e) => !was.nftElements.includes(e)),
          });
        } finally {
          cri.close();
        }
      }
      return leaks.every((l) => Object.values(l).every((v) => (Array.isArray(v) ? v.length === 0 : v === 0)));
    },
    60_000,
    2000,
  ).catch(() => log(`left behind: ${JSON.stringify(leaks)}`));
  const counted = (key: keyof NodeLeaks | 'loopDevices' | 'netns' | 'nftElements') =>
    leaks.reduce((sum, l) => sum + (Array.isArray(l[key]) ? (l[key] as unknown[]).length : (l[key] as number)), 0);
  const lags = curve.flatMap((s) => [s.server_lag_p99_ms, ...s.agent_lag_p99_ms]).filter((v): v is number => v !== null);
  const w = warm ?? end;
  process.stdout.write(
    `${JSON.stringify({
      scenario: 'soak',
      minutes: MINUTES,
      rounds,
      leaked: Object.fromEntries(
        (['sandboxes', 'containers', 'veths', 'addresses', 'cgroups', 'mounts', 'loopDevices', 'netns', 'nftElements'] as const).map((k) => [k, counted(k)]),
      ),
      rss_kib: {
        server_warm: w.server,
        server_end: end.server,
        agents_warm: w.agents.reduce((a, b) => a + b, 0),
        agents_end: end.agents.reduce((a, b) => a + b, 0),
      },
      rss_end_to_warm: {
        server: Math.round((end.server / w.server) * 100) / 100,
        agent_max: Math.max(...end.agents.map((a, i) => Math.round((a / (w.agents[i] as number)) * 100) / 100)),
      },
      eventloop_p99_max_ms: Math.max(...lags),
      curve,
      ...base,
    })}\n`,
  );
} finally {
  client.close();
  scrapes.destroy();
  await lab.teardown();
}
