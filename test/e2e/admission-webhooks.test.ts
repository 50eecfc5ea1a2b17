// Admission webhooks with the real kubectl: a loopback HTTPS server of the
// test's own is a mutating webhook (it labels ConfigMaps by JSON patch) and a
// validating one (it refuses a ConfigMap holding a key named forbidden, and
// warns of one named deprecated); a webhook that is down fails its writes
// under failurePolicy Fail and is passed by under Ignore; selectors and rules
// keep webhooks to what they name, and their own configurations never reach them;
// a webhook of reinvocationPolicy IfNeeded is called again after a later one
// changed the object; what webhooks did is in the audit log's annotations;
// a webhook for autoscaling/v1 sees autoscaling/v2 writes converted to v1
// (matchPolicy Equivalent) and its patch lands back in v2, one of matchPolicy
// Exact never sees them; a mutating admission policy of reinvocationPolicy
// IfNeeded runs again after a webhook changed the object, one of Never does not.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCert } from '../../apimachinery/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';
import { auditEvents, auditFlags, writeAuditPolicy } from '../harness/audit-log.ts';

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Request
  resources: [{group: '', resources: [configmaps]}]
  namespaces: [hooked]
`;
const api = useTestApiServer('sk-webhooks-', (dir) => ['--disable-scheduler', '--disable-controllers', ...auditFlags(dir)], writeAuditPolicy(AUDIT_POLICY));
let webhook: Server;
let port = 0;
let caBundle = '';
/** the AdmissionReview requests the webhook answered: operation kind/name */
const seen: string[] = [];
/** the requests the autoscaler webhooks answered: path, kind's and requestKind's versions, object's apiVersion and target */
const autoscalerReviews: string[] = [];

interface Review {
  request: {
    uid: string;
    operation: string;
    kind: { group: string; version: string; kind: string };
    requestKind: { group: string; version: string; kind: string };
    name: string;
    object?: {
      apiVersion?: string;
      data?: Record<string, string>;
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec?: { targetCPUUtilizationPercentage?: number };
    };
  };
}

beforeAll(async () => {
  const ca = await createCA('admission-webhook-ca');
  const serving = await issueCert(ca, { commonName: 'admission-webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
  caBundle = Buffer.from(ca.cert).toString('base64');
  webhook = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const { request } = JSON.parse(body) as Review;
      seen.push(`${req.url} ${request.operation} ${request.kind.kind}/${request.name}`);
      const data = request.object?.data ?? {};
      let response: object = { uid: request.uid, allowed: true };
      if (req.url === '/stamp') {
        // notes the labels it saw, and says so in the audit log
        const metadata = request.object?.metadata;
        const annotations = {
          ...(metadata?.annotations ?? {}),
          'labels-seen': Object.keys(metadata?.labels ?? {})
            .sort()
            .join(','),
        };
        const patch = [{ op: 'add', path: '/metadata/annotations', value: annotations }];
        response = {
          ...response,
          patchType: 'JSONPatch',
          patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
          auditAnnotations: { stamped: 'yes' },
        };
      } else if (req.url === '/cpu-60' || req.url === '/exact') {
        const { kind, requestKind, object } = request;
        autoscalerReviews.push(`${req.url} ${kind.version} ${requestKind.version} ${object?.apiVersion} ${object?.spec?.targetCPUUtilizationPercentage}`);
        if (req.url === '/cpu-60') {
          const patch = [{ op: 'replace', path: '/spec/targetCPUUtilizationPercentage', value: 60 }];
          response = { ...response, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
        }
      } else if (req.url === '/mutate') {
        const patch = [{ op: 'add', path: '/metadata/labels', value: { ...(request.object?.metadata?.labels ?? {}), mutated: 'yes' } }];
        response = { ...response, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
      } else if ('forbidden' in data) {
        response = { uid: request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: 'the key "forbidden" is not allowed here' } };
      } else if ('deprecated' in data) {
        response = { ...response, warnings: ['the key "deprecated" goes away in the next release'] };
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', () => resolve()));
  port = (webhook.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    webhook.close(() => resolve());
    webhook.closeAllConnections();
  });
});

const configuration = (kind: 'Mutating' | 'Validating', name: string, path: string, extra = '', target = `https://127.0.0.1:${port}`) => `
apiVersion: admissionregistration.k8s.io/v1
kind: ${kind}WebhookConfiguration
metadata: {name: ${name}}
webhooks:
- name: ${name}.skiff.example.com
  clientConfig: {url: "${target}${path}", caBundle: ${caBundle}}
  rules: [{operations: [CREATE, UPDATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}]
  sideEffects: None
  admissionReviewVersions: [v1]
  namespaceSelector: {matchLabels: {webhooks: "on"}}
${extra}`;

describe('admission webhooks', () => {
  it('mutates by JSON patch, refuses and warns as the webhooks answer, only where their selectors and rules reach', async () => {
    await api.kubectl('create', 'namespace', 'hooked');
    await api.kubectl('label', 'namespace', 'hooked', 'webhooks=on');
    for (const c of [configuration('Mutating', 'labeler', '/mutate'), configuration('Validating', 'guard', '/validate')]) {
      const r = await api.kubectlResult(['apply', '-f', '-'], c);
      expect(r.code, r.stderr).toBe(0);
    }
    await expect
      .poll(
        async () => {
          await api.kubectlResult(['create', 'configmap', 'probe', '-n', 'hooked', '--from-literal=k=v']);
          return api.kubectl('get', 'configmap', 'probe', '-n', 'hooked', '-o', 'jsonpath={.metadata.labels.mutated}');
        },
        { timeout: 10_000 },
      )
      .toBe('yes');
    const refused = await api.kubectlResult(['create', 'configmap', 'nope', '-n', 'hooked', '--from-literal=forbidden=1']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('admission webhook "guard.skiff.example.com" denied the request: the key "forbidden" is not allowed here');
    const warned = await api.kubectlResult(['create', 'configmap', 'old', '-n', 'hooked', '--from-literal=deprecated=1']);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain('Warning: the key "deprecated" goes away in the next release');
    // a namespace the selector leaves out, and a kind the rules leave out, never reach the webhook
    await api.kubectl('create', 'configmap', 'elsewhere', '-n', 'default', '--from-literal=forbidden=1');
    await api.kubectl('create', 'secret', 'generic', 'untouched', '-n', 'hooked', '--from-literal=forbidden=1');
    expect(seen.some((s) => s.includes('elsewhere') || s.includes('untouched'))).toBe(false);
    expect(seen.some((s) => s.includes('WebhookConfiguration'))).toBe(false);
  });

  it('skips a webhook whose matchConditions do not hold', async () => {
    const conditional = configuration(
      'Validating',
      'conditional',
      '/validate',
      '  matchConditions: [{name: not-exempt, expression: "!has(object.metadata.labels) || !(\'exempt\' in object.metadata.labels)"}]\n',
    );
    // the guard is done with: the conditional webhook alone validates now
    await api.kubectl('delete', 'validatingwebhookconfiguration', 'guard');
    const applied = await api.kubectlResult(['apply', '-f', '-'], conditional);
    expect(applied.code, applied.stderr).toBe(0);
    // the labeller runs first, so every ConfigMap here has labels; one labelled exempt is not sent to the conditional webhook
    await expect
      .poll(async () => (await api.kubectlResult(['create', 'configmap', `checked-${Date.now()}`, '-n', 'hooked', '--from-literal=forbidden=1'])).stderr, {
        timeout: 10_000,
      })
      .toContain('admission webhook "conditional.skiff.example.com" denied the request');
    const before = seen.filter((x) => x.startsWith('/validate')).length;
    const exempt = await api.kubectlResult(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: exempt, namespace: hooked, labels: {exempt: "yes"}}\ndata: {forbidden: "1"}\n',
    );
    expect(exempt.code, exempt.stderr).toBe(0);
    expect(seen.filter((x) => x.startsWith('/validate')).length).toBe(before);
    await api.kubectl('delete', 'validatingwebhookconfiguration', 'conditional');
  });

  it('fails writes when a webhook is down under failurePolicy Fail, and passes them by under Ignore', async () => {
    const down = 'https://127.0.0.1:1';
    await api.kubectlResult(['apply', '-f', '-'], configuration('Validating', 'absent-ignore', '/x', '  failurePolicy: Ignore\n', down));
    const ignored = await api.kubectlResult(['create', 'configmap', 'passes', '-n', 'hooked', '--from-literal=k=v']);
    expect(ignored.code, ignored.stderr).toBe(0);
    await api.kubectlResult(['apply', '-f', '-'], configuration('Validating', 'absent-fail', '/x', '  failurePolicy: Fail\n', down));
    await expect
      .poll(async () => (await api.kubectlResult(['create', 'configmap', `blocked-${Date.now()}`, '-n', 'hooked', '--from-literal=k=v'])).stderr, {
        timeout: 10_000,
      })
      .toContain('failed calling webhook "absent-fail.skiff.example.com": failed to call webhook: Post "https://127.0.0.1:1/x"');
    await api.kubectl('delete', 'validatingwebhookconfiguration', 'absent-fail', 'absent-ignore');
  });

  it('refuses a configuration without side effects or review versions', async () => {
    const r = await api.kubectlResult(
      ['apply', '-f', '-'],
      configuration('Validating', 'bad', '/x').replace('  sideEffects: None\n', '').replace('  admissionReviewVersions: [v1]\n', ''),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('webhooks[0].sideEffects: Required value');
    expect(r.stderr).toContain('webhooks[0].admissionReviewVersions: Required value');
  });

  it('calls an IfNeeded webhook again after a later one changed the object, and says what each did in the audit log', async () => {
    // sorted before the labeller, so it runs first and sees no label; called again, it sees the labeller's
    const stamper = configuration('Mutating', 'a-stamper', '/stamp', '  reinvocationPolicy: IfNeeded\n');
    const applied = await api.kubectlResult(['apply', '-f', '-'], stamper);
    expect(applied.code, applied.stderr).toBe(0);
    await expect
      .poll(
        async () => {
          const name = `stamped-${Date.now()}`;
          await api.kubectlResult(['create', 'configmap', name, '-n', 'hooked', '--from-literal=k=v']);
          return api.kubectl('get', 'configmap', name, '-n', 'hooked', '-o', 'jsonpath={.metadata.annotations.labels-seen}');
        },
        { timeout: 10_000 },
      )
      .toBe('mutated');
    const created = (await auditEvents(api.dir)).findLast((e) => e.verb === 'create' && e.objectRef?.name?.startsWith('stamped-'));
    const did = (configuration: string, mutated: boolean) => JSON.stringify({ configuration, webhook: `${configuration}.skiff.example.com`, mutated });
    expect(created?.annotations).toMatchObject({
      'mutation.webhook.admission.k8s.io/round_0_index_0': did('a-stamper', true),
      'mutation.webhook.admission.k8s.io/round_0_index_1': did('labeler', true),
      'mutation.webhook.admission.k8s.io/round_1_index_0': did('a-stamper', true),
      'a-stamper.skiff.example.com/stamped': 'yes',
    });
    // at Request level, the patches too
    expect(JSON.parse(created?.annotations?.['patch.webhook.admission.k8s.io/round_1_index_0'] ?? '{}')).toMatchObject({
      configuration: 'a-stamper',
      patchType: 'JSONPatch',
      patch: [{ op: 'add', path: '/metadata/annotations', value: { 'labels-seen': 'mutated' } }],
    });
    await api.kubectl('delete', 'mutatingwebhookconfiguration', 'a-stamper');
  });

  it("counts each webhook's calls, refusals and fail-opens, and times each plugin, on /metrics with kube-apiserver's names", async () => {
    const text = await api.kubectl('get', '--raw', '/metrics');
    const series = (name: string, labels: string) => new RegExp(`^${name}\\{${labels}\\} [1-9]\\d*$`, 'm');
    expect(text).toMatch(
      series(
        'apiserver_admission_webhook_admission_duration_seconds_count',
        'name="labeler.skiff.example.com",type="admit",operation="CREATE",rejected="false"',
      ),
    );
    expect(text).toMatch(
      series('apiserver_admission_webhook_request_total', 'name="guard.skiff.example.com",type="validate",operation="CREATE",code="200",rejected="true"'),
    );
    expect(text).toMatch(
      series(
        'apiserver_admission_webhook_rejection_count',
        'name="guard.skiff.example.com",type="validate",operation="CREATE",error_type="no_error",rejection_code="403"',
      ),
    );
    expect(text).toMatch(
      series(
        'apiserver_admission_webhook_rejection_count',
        'name="absent-fail.skiff.example.com",type="validate",operation="CREATE",error_type="calling_webhook_error",rejection_code="0"',
      ),
    );
    expect(text).toMatch(series('apiserver_admission_webhook_fail_open_count', 'name="absent-ignore.skiff.example.com",type="validate"'));
    expect(text).toMatch(
      series(
        'apiserver_admission_controller_admission_duration_seconds_count',
        'name="MutatingAdmissionWebhook",type="admit",operation="CREATE",rejected="false"',
      ),
    );
    expect(text).toMatch(
      series(
        'apiserver_admission_controller_admission_duration_seconds_count',
        'name="ValidatingAdmissionWebhook",type="validate",operation="CREATE",rejected="true"',
      ),
    );
  });

  it('shows a v2 autoscaler to a v1 webhook converted under matchPolicy Equivalent, its patch landing in v2; an Exact one is not called', async () => {
    const v1Rules = 'rules: [{operations: [CREATE], apiGroups: [autoscaling], apiVersions: [v1], resources: [horizontalpodautoscalers]}]';
    const forV1 = (kind: 'Mutating' | 'Validating', name: string, path: string, extra = '') =>
      configuration(kind, name, path, extra).replace(/rules: \[.*\]/, v1Rules);
    for (const c of [forV1('Mutating', 'cpu-sixty', '/cpu-60'), forV1('Validating', 'exact-v1', '/exact', '  matchPolicy: Exact\n')]) {
      const r = await api.kubectlResult(['apply', '-f', '-'], c);
      expect(r.code, r.stderr).toBe(0);
    }
    const autoscaler = (name: string) => `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ${name}, namespace: hooked}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]
`;
    const read = (name: string) =>
      api.kubectl('get', 'hpa.v2.autoscaling', name, '-n', 'hooked', '-o', 'jsonpath={.spec.metrics[0].resource.target.averageUtilization}');
    await expect
      .poll(
        async () => {
          const name = `scaled-${Date.now()}`;
          const r = await api.kubectlResult(['apply', '-f', '-'], autoscaler(name));
          expect(r.code, r.stderr).toBe(0);
          return read(name);
        },
        { timeout: 10_000 },
      )
      .toBe('60');
    // the webhook was asked about v1 (what it registered for), told the client wrote v2, and shown the object in v1
    expect(autoscalerReviews.at(-1)).toBe('/cpu-60 v1 v2 autoscaling/v1 80');
    // through v1 itself, both are called and nothing is converted
    const direct = await api.kubectlResult(
      ['apply', '-f', '-'],
      'apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: direct, namespace: hooked}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: 2, targetCPUUtilizationPercentage: 90}\n',
    );
    expect(direct.code, direct.stderr).toBe(0);
    expect(autoscalerReviews.slice(-2).sort()).toEqual(['/cpu-60 v1 v1 autoscaling/v1 90', '/exact v1 v1 autoscaling/v1 60']);
    expect(autoscalerReviews.filter((r) => r.startsWith('/exact'))).toHaveLength(1);
    await api.kubectl('delete', 'mutatingwebhookconfiguration', 'cpu-sixty');
    await api.kubectl('delete', 'validatingwebhookconfiguration', 'exact-v1');
  });

  it('runs a mutating admission policy of IfNeeded again after a webhook changed the object, and one of Never only once', async () => {
    const policy = (name: string, reinvocationPolicy: string) => `apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicy
metadata: {name: ${name}}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
    namespaceSelector: {matchLabels: {webhooks: "on"}}
  reinvocationPolicy: ${reinvocationPolicy}
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: >
        Object{metadata: Object.metadata{annotations: {"${name}": string(has(object.metadata.labels) && "mutated" in object.metadata.labels)}}}
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: MutatingAdmissionPolicyBinding
metadata: {name: ${name}}
spec: {policyName: ${name}}
`;
    const applied = await api.kubectlResult(['apply', '-f', '-'], `${policy('again', 'IfNeeded')}---\n${policy('once', 'Never')}`);
    expect(applied.code, applied.stderr).toBe(0);
    let name = '';
    await expect
      .poll(
        async () => {
          name = `reinvoked-${Date.now()}`;
          await api.kubectlResult(['create', 'configmap', name, '-n', 'hooked', '--from-literal=k=v']);
          return api.kubectl('get', 'configmap', name, '-n', 'hooked', '-o', 'jsonpath={.metadata.annotations.again}');
        },
        { timeout: 10_000 },
      )
      .toBe('true');
    // the policies ran before the labelling webhook: only the one run again saw its label
    expect(await api.kubectl('get', 'configmap', name, '-n', 'hooked', '-o', 'jsonpath={.metadata.annotations.once}')).toBe('false');
    expect(await api.kubectl('get', 'configmap', name, '-n', 'hooked', '-o', 'jsonpath={.metadata.labels.mutated}')).toBe('yes');
    await api.kubectl('delete', 'mutatingadmissionpolicybinding', 'again', 'once');
  });
});
