import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anonymousGet } from '../../lab/testbed/index.ts';
import { KUBECTL } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

// The API server alone (no node needed), driven by the real kubectl: the
// workload resources, and authentication + RBAC as users meet them. No
// scheduler or controllers run, so objects stay exactly as written.

const api = useTestApiServer(
  'sk-api-',
  (dir) => ['--token-auth-file', join(dir, 'tokens.csv'), '--disable-scheduler', '--disable-controllers'],
  (dir) => writeFile(join(dir, 'tokens.csv'), 'jane-secret-token,jane,1001,\n"ops-token",olga,1002,"ops,auditors"\n'),
);

/** kubectl apply of a YAML document (JSON on the wire, as apply always is). */
async function apply(yaml: string, kubectl = api.kubectlResult): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(['apply', '-f', '-'], yaml);
}

/** POSTs a JSON body to an API path with kubectl's raw mode; resolves with the parsed answer. */
// biome-ignore lint/suspicious/noExplicitAny: the tests read API answers of many shapes field by field
async function rawCreate(path: string, body: object, kubectl = api.kubectlResult): Promise<Record<string, any>> {
  const r = await kubectl(['create', '--raw', path, '-f', '-'], JSON.stringify(body));
  if (r.code !== 0) throw new Error(`POST ${path} failed: ${r.stderr}`);
  // biome-ignore lint/suspicious/noExplicitAny: as above
  return JSON.parse(r.stdout) as Record<string, any>;
}

const whoami = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
const accessReview = (verb: string, resource: string, namespace = 'default', group = '') => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SelfSubjectAccessReview',
  spec: { resourceAttributes: { verb, resource, namespace, group } },
});

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: busybox, image: busybox}]
`;

describe('workload resources through kubectl', () => {
  it('lists the built-in groups in api-resources', async () => {
    const out = await api.kubectl('api-resources', '--no-headers');
    for (const line of [
      /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m,
      /^cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob$/m,
      /^poddisruptionbudgets\s+pdb\s+policy\/v1\s+true\s+PodDisruptionBudget$/m,
      /^clusterroles\s+rbac.authorization.k8s.io\/v1\s+false\s+ClusterRole$/m,
      /^selfsubjectaccessreviews\s+authorization.k8s.io\/v1\s+false\s+SelfSubjectAccessReview$/m,
      /^storageclasses\s+sc\s+storage.k8s.io\/v1\s+false\s+StorageClass$/m,
    ]) {
      expect(out).toMatch(line);
    }
  });

  it('applies and scales a deployment and shows the workload columns', async () => {
    expect((await apply(DEPLOYMENT)).stdout).toContain('deployment.apps/web created');
    expect(await api.kubectl('scale', 'deployment', 'web', '--replicas=4')).toContain('deployment.apps/web scaled');
    expect(await api.kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas} {.metadata.generation}')).toBe('4 2');
    const table = await api.kubectl('get', 'deployments', '-o', 'wide');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/);
    expect(table).toMatch(/^web\s+0\/4\s+0\s+0\s+\S+\s+busybox\s+busybox\s+app=web$/m);
  });

  it('rejects a CronJob with a bad schedule and stores nothing', async () => {
    const r = await apply(`
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "61 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox}]
`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.schedule: Invalid value: "61 * * * *"');
    expect(await api.kubectl('get', 'cronjobs', '-o', 'name')).toBe('');
  });

  it('gives a Job its generated selector', async () => {
    await apply(
      '{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"once"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox","command":["true"]}]}}}}',
    );
    const uid = await api.kubectl('get', 'job', 'once', '-o', 'jsonpath={.metadata.uid}');
    expect(await api.kubectl('get', 'job', 'once', '-o', "jsonpath={.spec.selector.matchLabels['batch\\.kubernetes\\.io/controller-uid']}")).toBe(uid);
  });
});

describe('lists in pages and at a resourceVersion', () => {
  it('pages through one snapshot while the store moves on, and reads an exact resourceVersion', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) await api.kubectl('create', 'configmap', n, '-n', 'kube-public');
    const path = '/api/v1/namespaces/kube-public/configmaps';
    const page = async (query: string) =>
      JSON.parse(await api.kubectl('get', '--raw', `${path}?${query}`)) as {
        metadata: { resourceVersion: string; continue?: string };
        items: { metadata: { name: string } }[];
      };
    const names = (l: { items: { metadata: { name: string } }[] }) => l.items.map((i) => i.metadata.name).filter((n) => n.startsWith('page-'));
    const first = await page('limit=1');
    await api.kubectl('delete', 'configmap', 'page-b', '-n', 'kube-public');
    await api.kubectl('create', 'configmap', 'page-aa', '-n', 'kube-public');
    const rest = await page(`continue=${encodeURIComponent(first.metadata.continue ?? '')}`);
    expect([...names(first), ...names(rest)]).toEqual(['page-a', 'page-b', 'page-c']);
    expect(names(await page(`resourceVersion=${first.metadata.resourceVersion}&resourceVersionMatch=Exact`))).toEqual(['page-a', 'page-b', 'page-c']);
    expect(names(await page(''))).toEqual(['page-a', 'page-aa', 'page-c']);
    // and kubectl's own paging sees every object
    expect(
      (await api.kubectl('get', 'configmaps', '-n', 'kube-public', '--chunk-size=1', '-o', 'name')).split('\n').filter((l) => l.includes('page-')),
    ).toEqual(['configmap/page-a', 'configmap/page-aa', 'configmap/page-c']);
  });
});

describe("kubectl's typed commands (protobuf request bodies)", () => {
  it('creates deployments, secrets, jobs and budgets with kubectl create', async () => {
    expect(await api.kubectl('create', 'deployment', 'typed', '--image=busybox', '--replicas=0', '--port=8080', '--', 'sleep', '1000')).toContain(
      'deployment.apps/typed created',
    );
    expect(
      await api.kubectl(
        'get',
        'deployment',
        'typed',
        '-o',
        'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].command} {.spec.template.spec.containers[0].ports[0].containerPort}',
      ),
    ).toBe('0 ["sleep","1000"] 8080');
    await api.kubectl('create', 'secret', 'generic', 'typed', '--from-literal=user=admin', '--from-literal=empty=');
    expect(await api.kubectl('get', 'secret', 'typed', '-o', 'jsonpath={.data}')).toBe('{"empty":"","user":"YWRtaW4="}');
    await api.kubectl('create', 'cronjob', 'nightly', '--image=busybox', '--schedule=0 3 * * *', '--', 'echo', 'hi');
    await api.kubectl('create', 'job', 'nightly-now', '--from=cronjob/nightly');
    expect(
      await api.kubectl(
        'get',
        'job',
        'nightly-now',
        '-o',
        "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations['cronjob\\.kubernetes\\.io/instantiate']} {.spec.template.spec.containers[0].command}",
      ),
    ).toBe('CronJob/nightly manual ["echo","hi"]');
    await api.kubectl('create', 'pdb', 'typed', '--selector=app=typed', '--min-available=0');
    expect(await api.kubectl('get', 'pdb', 'typed', '-o', 'jsonpath={.spec.minAvailable}')).toBe('0');
  });

  it('answers auth can-i, auth whoami and create token', async () => {
    expect((await api.kubectl('auth', 'can-i', 'create', 'pods')).trim()).toBe('yes');
    expect((await api.kubectlResult(['auth', 'can-i', 'delete', 'nodes', '--as=nobody'])).stdout.trim()).toBe('no');
    expect(await api.kubectl('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}')).toContain('system:masters');
    await api.kubectl('create', 'serviceaccount', 'typed');
    const token = (await api.kubectl('create', 'token', 'typed', '--duration=10m')).trim();
    const sa = await api.withToken(token, 'typed');
    expect(await sa.kubectl('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}')).toBe('system:serviceaccount:default:typed');
  });

  it('drains a node through the eviction API', async () => {
    const created = await apply(
      '{"apiVersion":"v1","kind":"Node","metadata":{"name":"drained"}}\n---\n{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"drain"}}\n---\n{"apiVersion":"v1","kind":"Pod","metadata":{"name":"on-drained","namespace":"drain"},"spec":{"nodeName":"drained","containers":[{"name":"c","image":"busybox"}]}}',
    );
    expect(created.stderr).toBe('');
    const out = await api.kubectl('drain', 'drained', '--force', '--dry-run=server');
    expect(out).toContain('evicting pod drain/on-drained (server dry run)');
    expect(out).toContain('node/drained drained (server dry run)');
    // the eviction was a dry run: the pod is untouched
    expect(await api.kubectl('get', 'pod', 'on-drained', '-n', 'drain', '-o', 'jsonpath={.metadata.deletionTimestamp}')).toBe('');
  });
});

describe('authentication and RBAC', () => {
  it('lets anonymous users read /version and health only', async () => {
    expect((await anonymousGet(api.port, '/version')).status).toBe(200);
    expect((await anonymousGet(api.port, '/readyz')).status).toBe(200);
    const denied = await anonymousGet(api.port, '/api/v1/namespaces/default/pods');
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.body)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
  });

  it('authenticates static tokens and forbids what no role grants', async () => {
    const jane = await api.withToken('jane-secret-token', 'jane');
    expect((await rawCreate('/apis/authentication.k8s.io/v1/selfsubjectreviews', whoami, jane.kubectlResult)).status.userInfo).toMatchObject({
      username: 'jane',
      uid: '1001',
      groups: ['system:authenticated'],
    });
    const r = await jane.kubectlResult(['get', 'pods']);
    expect(r.stderr).toContain('pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"');
    const wrong = await (await api.withToken('not-a-token', 'nobody')).kubectlResult(['get', 'pods']);
    expect(wrong.stderr).toMatch(/Unauthorized/);
    const olga = await api.withToken('ops-token', 'olga');
    expect((await rawCreate('/apis/authentication.k8s.io/v1/selfsubjectreviews', whoami, olga.kubectlResult)).status.userInfo.groups).toEqual([
      'ops',
      'auditors',
      'system:authenticated',
    ]);
  });

  it('answers access reviews truthfully as bindings change', async () => {
    const jane = await api.withToken('jane-secret-token', 'jane');
    const allowed = async (...args: Parameters<typeof accessReview>) =>
      (await rawCreate('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', accessReview(...args), jane.kubectlResult)).status.allowed as boolean;
    expect(await allowed('list', 'pods')).toBe(false);
    expect(
      (
        await apply(
          '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"jane-view","namespace":"default"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"User","name":"jane","apiGroup":"rbac.authorization.k8s.io"}]}',
        )
      ).code,
    ).toBe(0);
    expect(await allowed('list', 'pods')).toBe(true);
    expect(await allowed('list', 'pods', 'kube-system')).toBe(false);
    expect(await allowed('get', 'secrets')).toBe(false);
    expect(await allowed('create', 'deployments', 'default', 'apps')).toBe(false);
    expect(await jane.kubectl('get', 'deployments', '-o', 'name')).toContain('deployment.apps/web\n');
    // the admin acts as jane through impersonation and is refused what she is refused
    expect((await api.kubectlResult(['get', 'secrets', '--as=jane'])).stderr).toContain('User "jane" cannot list resource "secrets"');
    expect(await api.kubectl('get', 'pods', '--as=jane', '-o', 'name')).toBe('');
    const rules = await rawCreate(
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } },
      jane.kubectlResult,
    );
    expect(rules.status.resourceRules.some((r: { resources: string[]; verbs: string[] }) => r.resources.includes('pods') && r.verbs.includes('list'))).toBe(
      true,
    );
  });

  it('refuses bindings and roles that grant more than the writer holds', async () => {
    const binding = (name: string, role: string, user: string) =>
      `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"${name}","namespace":"default"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"${role}"},"subjects":[{"kind":"User","name":"${user}","apiGroup":"rbac.authorization.k8s.io"}]}`;
    expect((await apply(binding('jane-admin', 'admin', 'jane'))).code).toBe(0);
    const jane = await api.withToken('jane-secret-token', 'jane');
    expect((await apply(binding('bob-view', 'view', 'bob'), jane.kubectlResult)).stdout).toContain('rolebinding.rbac.authorization.k8s.io/bob-view created');
    const escalate = await apply(binding('bob-root', 'cluster-admin', 'bob'), jane.kubectlResult);
    expect(escalate.stderr).toContain('user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held');
    const role = await apply(
      '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"nodes-too","namespace":"default"},"rules":[{"apiGroups":[""],"resources":["nodes"],"verbs":["get"]}]}',
      jane.kubectlResult,
    );
    expect(role.stderr).toContain('attempting to grant RBAC permissions not currently held');
    expect(await api.kubectl('get', 'rolebindings', '-o', 'name')).not.toContain('bob-root');
  });

  it('issues service account tokens that stop working when the account is deleted', async () => {
    await apply('{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"bot"}}');
    const tokenRequest = await rawCreate('/api/v1/namespaces/default/serviceaccounts/bot/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {},
    });
    const bot = await api.withToken(tokenRequest.status.token as string, 'bot');
    expect((await rawCreate('/apis/authentication.k8s.io/v1/selfsubjectreviews', whoami, bot.kubectlResult)).status.userInfo).toMatchObject({
      username: 'system:serviceaccount:default:bot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
    });
    await apply(
      '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"bot-edit","namespace":"default"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"},"subjects":[{"kind":"ServiceAccount","name":"bot","namespace":"default"}]}',
    );
    expect((await apply('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"from-bot"},"data":{"a":"b"}}', bot.kubectlResult)).stdout).toContain(
      'configmap/from-bot created',
    );
    const review = await rawCreate('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: tokenRequest.status.token },
    });
    expect(review.status).toMatchObject({
      authenticated: true,
      user: { username: 'system:serviceaccount:default:bot' },
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
    // an API server token is no token for another audience, and a token for another audience is none here
    const elsewhere = await rawCreate('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: tokenRequest.status.token, audiences: ['vault'] },
    });
    expect(elsewhere.status).toMatchObject({ authenticated: false });
    const both = await rawCreate('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: tokenRequest.status.token, audiences: ['vault', 'https://kubernetes.default.svc.cluster.local'] },
    });
    expect(both.status).toMatchObject({ authenticated: true, audiences: ['https://kubernetes.default.svc.cluster.local'] });
    const vaultToken = await rawCreate('/api/v1/namespaces/default/serviceaccounts/bot/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['vault'] },
    });
    expect((await (await api.withToken(vaultToken.status.token as string, 'bot-vault')).kubectlResult(['get', 'configmaps'])).stderr).toMatch(/Unauthorized/);
    const forVault = await rawCreate('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token: vaultToken.status.token, audiences: ['vault'] },
    });
    expect(forVault.status).toMatchObject({ authenticated: true, audiences: ['vault'] });
    await api.kubectl('delete', 'serviceaccount', 'bot');
    expect((await bot.kubectlResult(['get', 'configmaps'])).stderr).toMatch(/Unauthorized/);
  });

  it('accepts a bootstrap token from its kube-system Secret', async () => {
    await apply(`
apiVersion: v1
kind: Secret
metadata: {name: bootstrap-token-abcdef, namespace: kube-system}
type: bootstrap.kubernetes.io/token
stringData: {token-id: abcdef, token-secret: 0123456789abcdef, usage-bootstrap-authentication: "true", auth-extra-groups: "system:bootstrappers:worker"}
`);
    const joiner = await api.withToken('abcdef.0123456789abcdef', 'joiner');
    expect((await rawCreate('/apis/authentication.k8s.io/v1/selfsubjectreviews', whoami, joiner.kubectlResult)).status.userInfo).toMatchObject({
      username: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:bootstrappers:worker', 'system:authenticated'],
    });
    expect(
      (
        await rawCreate(
          '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
          accessReview('create', 'certificatesigningrequests', '', 'certificates.k8s.io'),
          joiner.kubectlResult,
        )
      ).status.allowed,
    ).toBe(true);
  });
});

describe('schemas: kubectl explain and field validation', () => {
  it('explains fields with their types, descriptions and whether they are required', async () => {
    const ports = await api.kubectl('explain', 'pod.spec.containers.ports');
    expect(ports).toMatch(/^FIELD: ports <\[\]ContainerPort>$/m);
    expect(ports).toMatch(/^ {2}containerPort\t<integer> -required-$/m);
    expect(ports).toContain("Number of port to expose on the pod's IP address.");
    const recursive = await api.kubectl('explain', 'deployment.spec', '--recursive');
    expect(recursive).toMatch(/^ {6}maxSurge\t<IntOrString>$/m);
    expect(recursive).toMatch(/^ {2}template\t<PodTemplateSpec> -required-$/m);
  });

  it('serves OpenAPI v2 in JSON for clients that read it', async () => {
    const doc = JSON.parse(await api.kubectl('get', '--raw', '/openapi/v2'));
    expect(doc.swagger).toBe('2.0');
    expect(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
    });
    const ports = doc.definitions['io.k8s.api.core.v1.ContainerPort'];
    expect(ports.required).toContain('containerPort');
    expect(ports.properties.containerPort.description).toContain('Number of port to expose');
  });

  const LIST = `
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: listed}
  spec:
    replicas: 1
    strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 25%}}
    selector: {matchLabels: {app: listed}}
    template:
      metadata: {labels: {app: listed}}
      spec:
        containers:
        - name: c
          image: busybox
          resources: {limits: {cpu: 1, memory: 64Mi}}
          ports: [{containerPort: 8080, name: http}]
          readinessProbe: {httpGet: {port: http, path: /}}
- apiVersion: v1
  kind: Service
  metadata: {name: listed}
  spec: {selector: {app: listed}, ports: [{port: 80, targetPort: 8080}]}
- apiVersion: batch/v1
  kind: CronJob
  metadata: {name: listed}
  spec: {schedule: "* * * * *", jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}}
`;

  it('serves OpenAPI v2 in protobuf, so kubectl validates a kind: List and creates, replaces and applies it', async () => {
    for (const verb of ['create', 'replace', 'apply']) {
      const r = await api.kubectlResult([verb, '-f', '-'], LIST);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('deployment.apps/listed');
      expect(r.stdout).toContain('cronjob.batch/listed');
    }
    expect(await api.kubectl('get', 'service', 'listed', '-o', 'jsonpath={.spec.ports[0].targetPort}')).toBe('8080');
  });

  it('says "no matches for kind" for a kind nobody serves, as kubectl says against Kubernetes', async () => {
    const r = await api.kubectlResult(['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('no matches for kind "Gizmo" in version "example.com/v1"');
  });

  it("refuses a List whose items do not match the served schemas in kubectl's words, and stores none of it", async () => {
    const bad = `
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: list-first}, data: {k: v}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: list-second}, data: {k: v}, extra: 1}
- apiVersion: v1
  kind: Pod
  metadata: {name: list-pod}
  spec: {containers: [{name: c, image: busybox, ports: [{containerPort: "x"}]}]}
`;
    const r = await api.kubectlResult(['create', '-f', '-'], bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ValidationError(ConfigMap): unknown field "extra" in io.k8s.api.core.v1.ConfigMap');
    expect(r.stderr).toContain(
      'ValidationError(Pod.spec.containers[0].ports[0].containerPort): invalid type for io.k8s.api.core.v1.ContainerPort.containerPort: got "string", expected "integer"',
    );
    expect(await api.kubectl('get', 'configmaps,pods', '-o', 'name')).not.toContain('list-');
  });

  const MISSPELT = `
apiVersion: v1
kind: ConfigMap
metadata: {name: misspelt, colour: red}
data: {k: v}
extra: 1
`;

  it("refuses unknown fields under Strict (kubectl's default) and stores nothing", async () => {
    const r = await apply(MISSPELT);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "extra", unknown field "metadata.colour"',
    );
    expect((await api.kubectlResult(['get', 'configmap', 'misspelt'])).stderr).toContain('NotFound');
  });

  it('drops unknown fields with a warning under Warn, silently under Ignore', async () => {
    const warned = await api.kubectlResult(['create', '-f', '-', '--validate=warn'], MISSPELT);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain('Warning: unknown field "extra"');
    expect(warned.stderr).toContain('Warning: unknown field "metadata.colour"');
    expect(JSON.parse(await api.kubectl('get', 'configmap', 'misspelt', '-o', 'json'))).not.toHaveProperty('extra');
    const ignored = await api.kubectlResult(['replace', '-f', '-', '--validate=false'], MISSPELT.replace('k: v', 'k: w'));
    expect(ignored.code).toBe(0);
    expect(ignored.stderr).toBe('');
    expect(await api.kubectl('get', 'configmap', 'misspelt', '-o', 'jsonpath={.data.k}')).toBe('w');
  });
});

describe('server-side apply through kubectl', () => {
  const WEB = (replicas: number, image: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ssa, labels: {app: ssa}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ssa}}
  template:
    metadata: {labels: {app: ssa}}
    spec:
      containers: [{name: web, image: ${image}}]
`;
  const ssa = (yaml: string, ...flags: string[]) => api.kubectlResult(['apply', '--server-side', ...flags, '-f', '-'], yaml);

  it('creates and updates, recording the manager in managedFields', async () => {
    expect((await ssa(WEB(2, 'busybox'))).stdout).toContain('deployment.apps/ssa serverside-applied');
    expect((await ssa(WEB(2, 'busybox:1'))).code).toBe(0);
    const obj = JSON.parse(await api.kubectl('get', 'deployment', 'ssa', '-o', 'json', '--show-managed-fields'));
    expect(obj.spec.template.spec.containers[0].image).toBe('busybox:1');
    expect(obj.metadata.generation).toBe(2);
    const applied = obj.metadata.managedFields.find((e: { operation: string }) => e.operation === 'Apply');
    expect(applied).toMatchObject({ manager: 'kubectl', apiVersion: 'apps/v1', fieldsType: 'FieldsV1' });
    expect(applied.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']).toEqual({ 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } });
  });

  it('refuses to take a field another manager changed, until forced', async () => {
    await api.kubectl('scale', 'deployment', 'ssa', '--replicas=5');
    const refused = await ssa(WEB(2, 'busybox:1'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Apply failed with 1 conflict: conflict with "[\w-]+"( using apps\/v1)?: \.spec\.replicas/);
    expect(await api.kubectl('get', 'deployment', 'ssa', '-o', 'jsonpath={.spec.replicas}')).toBe('5');
    expect((await ssa(WEB(2, 'busybox:1'), '--force-conflicts')).code).toBe(0);
    expect(await api.kubectl('get', 'deployment', 'ssa', '-o', 'jsonpath={.spec.replicas}')).toBe('2');
  });

  it('removes fields the manager stopped applying', async () => {
    await ssa(WEB(2, 'busybox:1').replace('labels: {app: ssa}}', 'labels: {app: ssa, tier: web}}'));
    expect(await api.kubectl('get', 'deployment', 'ssa', '-o', 'jsonpath={.metadata.labels}')).toBe('{"app":"ssa","tier":"web"}');
    await ssa(WEB(2, 'busybox:1'));
    expect(await api.kubectl('get', 'deployment', 'ssa', '-o', 'jsonpath={.metadata.labels}')).toBe('{"app":"ssa"}');
  });
});

describe('kubectl diff, annotate, edit and get -w', () => {
  const SETTINGS = (level: string) => `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {level: "${level}"}
`;

  it('diffs a manifest against the server (a dry-run apply), and changes nothing', async () => {
    expect((await apply(SETTINGS('1'))).code).toBe(0);
    const same = await api.kubectlResult(['diff', '-f', '-'], SETTINGS('1'));
    expect(same.code, same.stderr).toBe(0);
    const changed = await api.kubectlResult(['diff', '-f', '-'], SETTINGS('2'));
    expect(changed.code, changed.stderr).toBe(1);
    expect(changed.stdout).toMatch(/^-\s+level: "1"$/m);
    expect(changed.stdout).toMatch(/^\+\s+level: "2"$/m);
    expect(await api.kubectl('get', 'configmap', 'settings', '-o', 'jsonpath={.data.level}')).toBe('1');
  });

  it('annotates, and edits through an editor', async () => {
    await api.kubectl('annotate', 'configmap', 'settings', 'owner=ops');
    const editor = join(api.dir, 'editor.sh');
    await writeFile(editor, '#!/bin/sh\nsed -i \'s/level: "1"/level: "3"/\' "$1"\n');
    await chmod(editor, 0o755);
    const edited = await new Promise<number>((resolve) => {
      const child = spawn(KUBECTL, ['edit', 'configmap', 'settings'], {
        env: { ...process.env, KUBECONFIG: api.kubeconfig, KUBE_EDITOR: editor },
        stdio: 'ignore',
      });
      child.on('exit', (code) => resolve(code ?? 1));
    });
    expect(edited).toBe(0);
    expect(await api.kubectl('get', 'configmap', 'settings', '-o', 'jsonpath={.data.level} {.metadata.annotations.owner}')).toBe('3 ops');
  });

  it('streams changes with get -w until stopped', async () => {
    const child = spawn(KUBECTL, ['get', 'configmap', 'settings', '-w', '--output-watch-events', '-o', 'jsonpath={.type} {.object.data.level}{"\\n"}'], {
      env: { ...process.env, KUBECONFIG: api.kubeconfig },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    try {
      await expect.poll(() => out, { timeout: 10_000 }).toContain('ADDED 3');
      await api.kubectl('patch', 'configmap', 'settings', '--type=merge', '-p', '{"data":{"level":"4"}}');
      await api.kubectl('delete', 'configmap', 'settings');
      await expect.poll(() => out, { timeout: 10_000 }).toContain('DELETED 4');
      expect(out.trim().split('\n')).toEqual(['ADDED 3', 'MODIFIED 4', 'DELETED 4']);
    } finally {
      child.kill();
    }
  });
});
