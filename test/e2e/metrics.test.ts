// The API server's /metrics with the real kubectl and Debian's Prometheus:
// kube-apiserver's request series with its labels, the process and Node.js
// runtime series, served to system:monitoring and refused to others, labels
// bounded to what is served, and scraped by a real Prometheus whose PromQL
// (the seeds' queries) finds series with values.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../../apimachinery/index.ts';
import { anonymousGet, rawRequest } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';
import { usePrometheus } from '../harness/prometheus.ts';

const api = useTestApiServer('sk-metrics-', ['--disable-scheduler']);
let monitorToken = '';

/** A token of a service account bound to a cluster role (none: no binding). */
async function serviceAccountToken(name: string, clusterRole?: string): Promise<string> {
  await api.kubectl('create', 'serviceaccount', name, '-n', 'default');
  if (clusterRole) await api.kubectl('create', 'clusterrolebinding', name, `--clusterrole=${clusterRole}`, `--serviceaccount=default:${name}`);
  return (await api.kubectl('create', 'token', name, '-n', 'default', '--duration=1h')).trim();
}

beforeAll(async () => {
  monitorToken = await serviceAccountToken('scraper', 'system:monitoring');
});

describe('API server metrics', () => {
  it("counts requests with kube-apiserver's names and labels, beside the process and runtime series", async () => {
    await api.kubectl('get', 'pods', '-n', 'default');
    await api.kubectl('create', 'configmap', 'counted', '-n', 'default', '--from-literal=k=v');
    const text = await api.kubectl('get', '--raw', '/metrics');
    expect(text).toMatch(
      /^apiserver_request_total\{verb="LIST",dry_run="",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver",code="200"\} \d+$/m,
    );
    expect(text).toMatch(/^apiserver_request_total\{verb="POST",[^}]*resource="configmaps"[^}]*code="201"\} \d+$/m);
    // the seeds' debug recipe: kubectl get --raw /metrics | grep apiserver_request_duration_seconds_count
    expect(text).toMatch(/^apiserver_request_duration_seconds_count\{verb="LIST",[^}]*resource="pods"[^}]*\} \d+$/m);
    expect(text).toMatch(/^apiserver_request_duration_seconds_bucket\{le="0\.005",verb="LIST"/m);
    expect(text).toMatch(/^apiserver_current_inflight_requests\{request_kind="readOnly"\} \d+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds [\d.e+-]+$/m);
  });

  it("carries the store's latency and objects, watch events, admission steps, the controllers' queues and the Leases led", async () => {
    await api.kubectl('create', 'configmap', 'watched', '-n', 'default', '--from-literal=k=v');
    // refused by NamespaceLifecycle, a mutating-step plugin
    expect((await api.kubectlResult(['create', 'configmap', 'lost', '-n', 'no-such-namespace', '--from-literal=k=v'])).code).not.toBe(0);
    await expect
      .poll(async () => api.kubectl('get', '--raw', '/metrics'), { timeout: 15_000 })
      .toMatch(/^leader_election_master_status\{name="kube-controller-manager"\} 1$/m);
    const text = await api.kubectl('get', '--raw', '/metrics');
    expect(text).toMatch(/^etcd_request_duration_seconds_count\{operation="create",type="configmaps"\} [1-9]\d*$/m);
    expect(text).toMatch(/^etcd_request_duration_seconds_count\{operation="list",type="deployments.apps"\} [1-9]\d*$/m);
    expect(text).toMatch(/^apiserver_storage_objects\{resource="configmaps"\} [1-9]\d*$/m);
    expect(text).toMatch(/^apiserver_storage_objects\{resource="clusterroles.rbac.authorization.k8s.io"\} [1-9]\d*$/m);
    expect(text).toMatch(/^apiserver_watch_events_total\{group="",version="v1",kind="ConfigMap"\} [1-9]\d*$/m);
    expect(text).toMatch(/^apiserver_admission_step_admission_duration_seconds_count\{type="admit",operation="CREATE",rejected="false"\} [1-9]\d*$/m);
    expect(text).toMatch(/^apiserver_admission_step_admission_duration_seconds_count\{type="validate",operation="CREATE",rejected="false"\} [1-9]\d*$/m);
    expect(text).toMatch(/^apiserver_admission_step_admission_duration_seconds_count\{type="admit",operation="CREATE",rejected="true"\} [1-9]\d*$/m);
    // each plugin timed under its name: NamespaceLifecycle refused the write to a namespace that is not there
    expect(text).toMatch(
      /^apiserver_admission_controller_admission_duration_seconds_count\{name="NamespaceLifecycle",type="admit",operation="CREATE",rejected="true"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(
      /^apiserver_admission_controller_admission_duration_seconds_count\{name="ResourceQuota",type="validate",operation="CREATE",rejected="false"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(/^workqueue_depth\{name="replicaset"\} \d+$/m);
    expect(text).toMatch(/^workqueue_adds_total\{name="namespace-defaults"\} [1-9]\d*$/m);
    expect(text).toMatch(/^workqueue_queue_duration_seconds_count\{name="namespace-defaults"\} [1-9]\d*$/m);
    expect(text).toMatch(/^workqueue_work_duration_seconds_count\{name="namespace-defaults"\} [1-9]\d*$/m);
  });

  it('serves /metrics to system:monitoring only, and never to anonymous', async () => {
    const monitor = await api.withToken(monitorToken, 'scraper');
    expect(await monitor.kubectl('get', '--raw', '/metrics')).toMatch(/^apiserver_request_total/m);
    const nobody = await api.withToken(await serviceAccountToken('nobody'), 'nobody');
    await expect(nobody.kubectl('get', '--raw', '/metrics')).rejects.toThrow(
      /forbidden: User "system:serviceaccount:default:nobody" cannot get path "\/metrics"/,
    );
    // a scrape without credentials is not anonymous but unauthenticated: 401
    const anonymous = await anonymousGet(api.port, '/metrics');
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('answers a scraper that asks for OpenMetrics in OpenMetrics, the same series under the same names', async () => {
    const cfg = await loadKubeconfig(api.kubeconfig);
    const accept = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
    const open = await rawRequest(cfg, { method: 'GET', path: '/metrics', accept });
    expect(open.status).toBe(200);
    expect(open.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(open.text).toMatch(/^# TYPE apiserver_request counter$/m);
    expect(open.text).toMatch(/^apiserver_request_total\{verb="LIST",[^}]*\} \d+$/m);
    expect(open.text.endsWith('\n# EOF\n')).toBe(true);
    const text = await rawRequest(cfg, { method: 'GET', path: '/metrics', accept: 'text/plain' });
    expect(text.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.text).toMatch(/^# TYPE apiserver_request_total counter$/m);
    expect(text.text).not.toContain('# EOF');
  });

  it('keeps a path that names no served resource, and a dry run value that is none, out of the labels', async () => {
    await api.kubectlResult(['get', '--raw', '/api/v1/namespaces/default/made-up-things-1234']);
    await api.kubectlResult(['get', '--raw', '/api/v1/namespaces/default/configmaps?dryRun=made-up-dry-run-5678']);
    const text = await api.kubectl('get', '--raw', '/metrics');
    expect(text).not.toContain('made-up-things-1234');
    expect(text).toMatch(/^apiserver_request_total\{verb="GET",dry_run="",group="",version="",resource="",[^}]*code="404"\} \d+$/m);
    expect(text).not.toContain('made-up-dry-run-5678');
    expect(text).toMatch(/^apiserver_request_total\{verb="LIST",dry_run="invalid",[^}]*resource="configmaps"[^}]*\} \d+$/m);
  });
});

describe("the seeds' debug recipe", () => {
  it('answers kubectl get componentstatuses: the store and the controller manager healthy, the disabled scheduler not', async () => {
    await expect
      .poll(async () => api.kubectl('get', 'componentstatuses', '--no-headers'), { timeout: 30_000 })
      .toMatch(/^controller-manager\s+Healthy\s+ok\s*$/m);
    const table = await api.kubectl('get', 'cs');
    expect(table).toMatch(/^NAME\s+STATUS\s+MESSAGE\s+ERROR$/m);
    expect(table).toMatch(/^etcd-0\s+Healthy\s+ok\s*$/m);
    expect(table).toMatch(/^scheduler\s+Unhealthy\s+/m);
    expect(await api.kubectl('get', '--raw', '/readyz?verbose')).toMatch(/^readyz check passed$/m);
  });
});

describe('a real Prometheus', () => {
  const prometheus = usePrometheus(async () => ({
    token: monitorToken,
    ca: await readFile(join(api.pkiDir, 'ca.crt')),
    jobs: [{ name: 'apiserver', target: `127.0.0.1:${api.port}` }],
  }));
  const query = (promql: string) => prometheus.query(promql);

  it("scrapes the API server and answers the seeds' PromQL with values", async () => {
    await expect.poll(async () => (await query('up{job="apiserver"}'))[0]?.value[1], { timeout: 60_000, interval: 1000 }).toBe('1');
    for (let i = 0; i < 5; i++) await api.kubectl('get', 'pods', '-A');
    const queries = [
      'histogram_quantile(0.99, sum(rate(apiserver_request_duration_seconds_bucket[1m])) by (le, verb))',
      '(sum(rate(apiserver_request_total{code=~"5.."}[1m])) or vector(0)) / sum(rate(apiserver_request_total[1m]))',
      'sum(apiserver_request_total) by (verb)',
      'process_resident_memory_bytes',
    ];
    // Prometheus asks for OpenMetrics first: the families it read are named as OpenMetrics names them
    expect(await prometheus.metadata('apiserver_request')).toEqual([{ type: 'counter', help: expect.stringContaining('apiserver requests'), unit: '' }]);
    for (const q of queries) {
      await expect
        .poll(async () => (await query(q)).some((s) => !Number.isNaN(Number(s.value[1]))), { timeout: 30_000, interval: 1000, message: q })
        .toBe(true);
    }
  });
});
