// The agent's metrics on a real node, as Prometheus reads them through the
// API server's node proxy (and the scheduler's, from the server's own
// /metrics): the kubelet's series (pod start-up, runtime
// operations, relist, running pods and containers), the start-up phases,
// the proxy's sync, probe results on /metrics/probes and the containers'
// cAdvisor series on /metrics/cadvisor, refused to a user without the
// rights, and scraped by Debian's Prometheus whose PromQL finds values.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KUBECTL, applyManifest, startTestCluster, waitForJsonPath, type TestCluster } from '../../lab/testbed/index.ts';
import { usePrometheus } from '../harness/prometheus.ts';

let c: TestCluster;
let uid = '';

beforeAll(async () => {
  c = await startTestCluster('nmet', 227);
  await applyManifest(
    c,
    `
apiVersion: v1
kind: Pod
metadata: {name: measured}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: [sh, -c, 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www']
    resources: {limits: {memory: 64Mi, cpu: 200m}}
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
`,
  );
  await waitForJsonPath(c, ['pod', 'measured'], '{.status.conditions[?(@.type=="Ready")].status}', 'True');
  uid = await c.kubectl('get', 'pod', 'measured', '-o', 'jsonpath={.metadata.uid}');
}, 180_000);

afterAll(async () => {
  await c?.teardown();
});

const nodePath = (path: string) => `/api/v1/nodes/${c.nodeName}/proxy${path}`;
const scrape = (path: string) => c.kubectl('get', '--raw', nodePath(path));
/** The value of the one sample of a series whose name and labels match. */
function sample(text: string, series: RegExp): number | undefined {
  const line = text.split('\n').find((l) => series.test(l));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe("the agent's /metrics", () => {
  it("carries the kubelet's pod start-up, runtime, relist and running series", async () => {
    const text = await scrape('/metrics');
    expect(text).toMatch(new RegExp(`^kubelet_node_name\\{node="${c.nodeName}"\\} 1$`, 'm'));
    expect(sample(text, /^kubelet_pod_start_duration_seconds_count /)).toBeGreaterThanOrEqual(1);
    expect(sample(text, /^kubelet_pod_start_sli_duration_seconds_count\{first_with_network="true"\} /)).toBe(1);
    expect(sample(text, /^kubelet_pod_start_total_duration_seconds_count\{first_with_network="true"\} /)).toBe(1);
    expect(sample(text, /^kubelet_runtime_operations_total\{operation_type="run_podsandbox"\} /)).toBeGreaterThanOrEqual(1);
    expect(sample(text, /^kubelet_runtime_operations_duration_seconds_count\{operation_type="create_container"\} /)).toBeGreaterThanOrEqual(1);
    expect(sample(text, /^kubelet_pleg_relist_duration_seconds_count /)).toBeGreaterThanOrEqual(1);
    expect(sample(text, /^kubeproxy_sync_proxy_rules_duration_seconds_count /)).toBeGreaterThanOrEqual(1);
    expect(sample(text, /^kubeproxy_sync_proxy_rules_last_timestamp_seconds /)).toBeGreaterThan(1_700_000_000);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    // running pods and containers as the last relist (each second) found them
    await expect.poll(async () => sample(await scrape('/metrics'), /^kubelet_running_pods /), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(sample(await scrape('/metrics'), /^kubelet_running_containers\{container_state="running"\} /)).toBeGreaterThanOrEqual(1);
  });

  it('breaks the first start of each pod down by phase', async () => {
    const text = await scrape('/metrics');
    for (const phase of ['admit', 'volumes', 'sandbox', 'network', 'create', 'start', 'ready']) {
      expect(sample(text, new RegExp(`^skiff_pod_start_phase_duration_seconds_count\\{phase="${phase}"\\} `)), phase).toBeGreaterThanOrEqual(1);
    }
  });

  it('serves probe results on /metrics/probes, and they go with the pod', async () => {
    const probes = `prober_probe_total{probe_type="Readiness",result="successful",container="web",pod="measured",namespace="default",pod_uid="${uid}"}`;
    const text = await scrape('/metrics/probes');
    expect(sample(text, new RegExp(`^${probes.replace(/[{}]/g, '\\$&')} `))).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('process_resident_memory_bytes');
  });

  it("serves the containers' series under cAdvisor's names on /metrics/cadvisor", async () => {
    const web = /\{container="web",image="[^"]*busybox[^"]*",name="[0-9a-f]{64}",namespace="default",pod="measured"\}/.source;
    // the containers are read every 10 s, as cAdvisor reads them: the pod shows by the next reading
    await expect
      .poll(async () => sample(await scrape('/metrics/cadvisor'), new RegExp(`^container_cpu_usage_seconds_total${web} `)), { timeout: 20_000, interval: 1000 })
      .toBeGreaterThan(0);
    const text = await scrape('/metrics/cadvisor');
    expect(sample(text, new RegExp(`^container_memory_working_set_bytes${web} `))).toBeGreaterThan(0);
    expect(sample(text, new RegExp(`^container_memory_rss${web} `))).toBeGreaterThanOrEqual(0);
    expect(sample(text, new RegExp(`^container_fs_usage_bytes${web} `))).toBeGreaterThanOrEqual(0);
    expect(sample(text, new RegExp(`^container_spec_memory_limit_bytes${web} `))).toBe(64 * 1024 * 1024);
    expect(sample(text, /^container_network_receive_bytes_total\{interface="eth0",namespace="default",pod="measured"\} /)).toBeGreaterThan(0);
    expect(sample(text, /^container_network_transmit_bytes_total\{interface="eth0",namespace="default",pod="measured"\} /)).toBeGreaterThan(0);
  });

  it("counts the scheduler's attempts and placements, and shows its queue", async () => {
    const text = await c.kubectl('get', '--raw', '/metrics');
    expect(text).toMatch(/^scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} [1-9]\d*$/m);
    expect(text).toMatch(/^scheduler_scheduling_attempt_duration_seconds_count\{result="scheduled",profile="default-scheduler"\} [1-9]\d*$/m);
    expect(text).toMatch(/^scheduler_pod_scheduling_sli_duration_seconds_count\{attempts="1"\} [1-9]\d*$/m);
    expect(text).toMatch(/^scheduler_pending_pods\{queue="active"\} 0$/m);
    expect(text).toMatch(/^leader_election_master_status\{name="kube-scheduler"\} 1$/m);
  });

  it('refuses a user without the rights, as the kubelet does through the node proxy', async () => {
    await c.kubectl('create', 'serviceaccount', 'nobody', '-n', 'default');
    const refused = await c.kubectlResult(['get', '--raw', nodePath('/metrics/cadvisor'), '--as=system:serviceaccount:default:nobody']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      'forbidden: User "system:serviceaccount:default:nobody" cannot get resource "nodes/proxy" in API group "" at the cluster scope',
    );
  });
});

describe('a real Prometheus scraping the node through the API server', () => {
  const prometheus = usePrometheus(async () => {
    // Prometheus' own example for nodes through the API server: get on nodes/proxy and nodes/metrics (and the server's own /metrics)
    await c.kubectl('create', 'clusterrole', 'node-scraper', '--verb=get', '--resource=nodes/proxy,nodes/metrics', '--non-resource-url=/metrics');
    await c.kubectl('create', 'serviceaccount', 'node-scraper', '-n', 'default');
    await c.kubectl('create', 'clusterrolebinding', 'node-scraper', '--clusterrole=node-scraper', '--serviceaccount=default:node-scraper');
    const token = (await c.kubectl('create', 'token', 'node-scraper', '-n', 'default', '--duration=1h')).trim();
    const kubeconfig = parse(await readFile(c.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
    const cluster = kubeconfig.clusters[0]?.cluster;
    const target = new URL(cluster?.server ?? '').host;
    return {
      token,
      ca: Buffer.from(cluster?.['certificate-authority-data'] ?? '', 'base64'),
      jobs: [
        { name: 'apiserver', target },
        { name: 'kubelet', target, metricsPath: nodePath('/metrics') },
        { name: 'cadvisor', target, metricsPath: nodePath('/metrics/cadvisor') },
      ],
    };
  });
  const query = (promql: string) => prometheus.query(promql);

  it("answers the seeds' node queries with values: pod start-up p99, container CPU and working set", async () => {
    for (const job of ['apiserver', 'kubelet', 'cadvisor']) {
      await expect.poll(async () => (await query(`up{job="${job}"}`))[0]?.value[1], { timeout: 60_000, interval: 1000, message: job }).toBe('1');
    }
    const queries = [
      'histogram_quantile(0.99, sum(kubelet_pod_start_sli_duration_seconds_bucket) by (le))',
      'sum(rate(container_cpu_usage_seconds_total{container!=""}[1m])) by (pod)',
      'sum(container_memory_working_set_bytes{container!=""}) by (pod)',
      'sum(rate(kubelet_runtime_operations_total[1m])) by (operation_type)',
      'histogram_quantile(0.99, sum(scheduler_scheduling_attempt_duration_seconds_bucket) by (le))',
      'sum(scheduler_pending_pods) by (queue)',
      'sum(workqueue_depth) by (name)',
    ];
    for (const q of queries) {
      await expect
        .poll(async () => (await query(q)).some((s) => Number.isFinite(Number(s.value[1]))), { timeout: 30_000, interval: 1000, message: q })
        .toBe(true);
    }
    // its Accept header reached the agent through the node proxy: the families came as OpenMetrics names them
    for (const family of ['container_cpu_usage_seconds', 'kubelet_runtime_operations']) {
      expect((await prometheus.metadata(family)).map((m) => m.type)).toEqual(['counter']);
    }
  });
});

// The seeds' debug recipe, run as an operator types it: component health,
// resource use, the API server's and scheduler's metrics, events by time.
// (No pipefail: grep and head end their pipes early, as they do for an operator.)
const RECIPE = `set -eu
echo '## components'; kubectl get componentstatuses
echo '## nodes'; kubectl top nodes
echo '## pods'; kubectl top pods -A
echo '## apiserver'; kubectl get --raw /metrics | grep apiserver_request_duration_seconds_count | head -n 3
echo '## scheduler'; kubectl get --raw /metrics | grep '^scheduler_' | head -n 3
echo '## events'; kubectl get events -A --sort-by=.lastTimestamp | tail -n 5
`;

describe("the seeds' debug recipe", () => {
  it('runs line by line, each command answering in the shape an operator expects', async () => {
    const { stdout } = await promisify(execFile)('bash', ['-c', RECIPE], {
      env: { ...process.env, KUBECONFIG: c.kubeconfig, PATH: `${dirname(KUBECTL)}:${process.env.PATH}` },
      timeout: 120_000,
    });
    const section = (name: string) => stdout.split(`## ${name}\n`)[1]?.split('\n## ')[0] ?? '';
    expect(section('components')).toMatch(/^scheduler\s+Healthy\s+ok/m);
    expect(section('components')).toMatch(/^controller-manager\s+Healthy\s+ok/m);
    expect(section('nodes')).toMatch(new RegExp(`^${c.nodeName}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`, 'm'));
    expect(section('pods')).toMatch(/^default\s+measured\s+\d+m\s+\d+Mi/m);
    expect(section('apiserver')).toMatch(/^apiserver_request_duration_seconds_count\{verb="\w+"/m);
    expect(section('scheduler')).toMatch(/^scheduler_\w+/m);
    expect(section('events')).toMatch(/^default\s+\S+\s+Normal\s+\w+\s+pod\/measured/m);
  });
});
