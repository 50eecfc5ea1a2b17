// The control plane away for 1, 3 and 6 minutes (SIGKILL) while pods run:
// when it is back, how long until the node reports Ready through the API,
// whether it was ever seen NotReady or tainted, and whether any pod was
// evicted or restarted. Long: belongs here, not in the test suite.
import { cpus } from 'node:os';
import { startTestCluster, waitForJsonPath } from '../lab/testbed/index.ts';

const OUTAGES_MIN = (process.env.SKIFF_BENCH_OUTAGES ?? '1,3,6').split(',').map(Number);
const PODS = 5;
const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
const log = (s: string) => process.stderr.write(`control-plane-outage bench: ${s}\n`);

const cluster = await startTestCluster('outage', 212);
try {
  for (let i = 0; i < PODS; i++) await cluster.kubectl('run', `steady-${i}`, '--image=busybox', '--restart=Never', '--', 'sleep', '36000');
  for (let i = 0; i < PODS; i++) await waitForJsonPath(cluster, ['pod', `steady-${i}`], '{.status.phase}', 'Running');
  const containers = async () =>
    cluster.kubectl(
      'get',
      'pods',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.containerStatuses[0].containerID}/{.status.containerStatuses[0].restartCount} {end}',
    );
  const before = await containers();
  for (const minutes of OUTAGES_MIN) {
    log(`control plane down for ${minutes} min`);
    await cluster.restartServer({ kill: true, downMs: minutes * 60_000 });
    const back = performance.now();
    const seen = new Set<string>();
    let readyAfterMs: number | null = null;
    // watch the node for a full grace period and more after the server is back
    while (performance.now() - back < 60_000) {
      const state = await cluster.kubectl(
        'get',
        'node',
        cluster.nodeName,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.spec.taints[*].key}',
      );
      seen.add(state);
      if (readyAfterMs === null && state.startsWith('True')) readyAfterMs = Math.round(performance.now() - back);
      await new Promise((r) => setTimeout(r, 500));
    }
    const evictions = (await cluster.kubectl('get', 'events', '--field-selector', 'reason=TaintManagerEviction', '-o', 'name')).trim();
    process.stdout.write(
      `${JSON.stringify({ scenario: 'control-plane-outage', downMinutes: minutes, readyAfterMs, nodeStatesSeen: [...seen], evictions: evictions ? evictions.split('\n').length : 0, podsUnchanged: (await containers()) === before, ...base })}\n`,
    );
  }
} finally {
  await cluster.teardown();
}
