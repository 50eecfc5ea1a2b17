// The controller manager against the API server alone (no node, no
// scheduler: pods stay Pending and go at once when deleted), driven by the
// real kubectl: ReplicaSets from Deployments, and deletion propagation; a
// ValidatingAdmissionPolicy's expressions type checked in its status.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KUBECTL } from '../../lab/testbed/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';
import { certificateRequest } from '../harness/index.ts';

const api = useTestApiServer('sk-ctl-', ['--disable-scheduler']);

const names = async (...args: string[]) => (await api.kubectl('get', ...args, '-o', 'name')).split('\n').filter(Boolean).sort();

async function deployment(name: string, replicas: number): Promise<void> {
  await api.kubectl('create', 'deployment', name, '--image=busybox', `--replicas=${replicas}`);
  await expect.poll(() => names('pods', '-l', `app=${name}`), { timeout: 20_000 }).toHaveLength(replicas);
}

describe('Deployments and ReplicaSets', () => {
  it('makes one ReplicaSet per template, owned by the Deployment, and reports progress', async () => {
    await deployment('web', 3);
    const rs = await names('rs', '-l', 'app=web');
    expect(rs).toHaveLength(1);
    expect(
      await api.kubectl(
        'get',
        rs[0] as string,
        '-o',
        'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.spec.replicas} {.metadata.annotations.deployment\\.kubernetes\\.io/revision}',
      ),
    ).toBe('Deployment/web 3 1');
    const pod = (await names('pods', '-l', 'app=web'))[0] as string;
    expect(await api.kubectl('get', pod, '-o', 'jsonpath={.metadata.ownerReferences[0].kind} {.metadata.labels.pod-template-hash}')).toMatch(
      /^ReplicaSet \w+$/,
    );
    await expect
      .poll(
        () =>
          api.kubectl(
            'get',
            'deployment',
            'web',
            '-o',
            'jsonpath={.status.updatedReplicas} {.status.conditions[?(@.type=="Progressing")].reason} {.status.conditions[?(@.type=="Available")].status}',
          ),
        { timeout: 10_000 },
      )
      .toBe('3 ReplicaSetUpdated False');
  });

  it('scales the ReplicaSet down, newest pods first', async () => {
    await api.kubectl('scale', 'deployment', 'web', '--replicas=1');
    await expect.poll(() => names('pods', '-l', 'app=web'), { timeout: 20_000 }).toHaveLength(1);
    expect(await api.kubectl('get', 'rs', '-l', 'app=web', '-o', 'jsonpath={.items[0].spec.replicas} {.items[0].status.replicas}')).toBe('1 1');
  });
});

describe('CronJobs', () => {
  const cronJob = (name: string, policy: string) => `
apiVersion: batch/v1
kind: CronJob
metadata: {name: ${name}}
spec:
  schedule: "@every 1s"
  concurrencyPolicy: ${policy}
  jobTemplate:
    metadata: {labels: {cron: ${name}}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
`;
  const jobs = (name: string) => names('jobs', '-l', `cron=${name}`);

  it('starts Jobs on schedule and, with Forbid, none while one is running', async () => {
    await api.kubectlResult(['apply', '-f', '-'], cronJob('tick', 'Forbid'));
    await expect.poll(() => jobs('tick'), { timeout: 20_000 }).toHaveLength(1);
    const [job] = await jobs('tick');
    expect(
      await api.kubectl(
        'get',
        job as string,
        '-o',
        'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}',
      ),
    ).toMatch(/^CronJob\/tick \d{4}-\d\d-\d\dT/);
    await expect
      .poll(() => api.kubectl('get', 'cronjob', 'tick', '-o', 'jsonpath={.status.active[0].name}'), { timeout: 10_000 })
      .toBe((job as string).replace('job.batch/', ''));
    // its pod never runs here (no node), so the Job stays active and no second one starts
    await new Promise((r) => setTimeout(r, 2500));
    expect(await jobs('tick')).toEqual([job]);
    await api.kubectl('delete', 'cronjob', 'tick');
    await expect.poll(() => jobs('tick'), { timeout: 20_000 }).toEqual([]);
  });

  it('replaces the running Job with Replace', async () => {
    await api.kubectlResult(['apply', '-f', '-'], cronJob('swap', 'Replace'));
    const uids = () => api.kubectl('get', 'jobs', '-l', 'cron=swap', '-o', 'jsonpath={.items[*].metadata.uid}');
    await expect.poll(uids, { timeout: 20_000 }).toMatch(/^\S+$/);
    const first = await uids();
    // a later run deletes the running Job and starts another (Jobs are named by minute, so compare uids)
    await expect
      .poll(
        async () => {
          const now = await uids();
          return now !== '' && !now.includes(first);
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    expect(
      await api.kubectl('get', 'events', '--field-selector', 'involvedObject.kind=CronJob,involvedObject.name=swap', '-o', 'jsonpath={.items[*].reason}'),
    ).toContain('SuccessfulDelete');
    await api.kubectl('patch', 'cronjob', 'swap', '-p', '{"spec":{"suspend":true}}');
  });
});

describe('Deployment rollouts', () => {
  it("holds a paused Deployment's template changes until it is resumed", async () => {
    await deployment('paused', 1);
    await api.kubectl('rollout', 'pause', 'deployment/paused');
    await api.kubectl('set', 'image', 'deployment/paused', 'busybox=busybox:1.35');
    await expect
      .poll(() => api.kubectl('get', 'deployment', 'paused', '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}'), { timeout: 10_000 })
      .toBe('DeploymentPaused');
    expect(await names('rs', '-l', 'app=paused')).toHaveLength(1);
    await api.kubectl('rollout', 'resume', 'deployment/paused');
    await expect.poll(() => names('rs', '-l', 'app=paused'), { timeout: 10_000 }).toHaveLength(2);
  });

  it('reports a rollout that makes no progress within progressDeadlineSeconds', async () => {
    await deployment('stuck', 1);
    // its pods never become ready here (no node)
    await api.kubectl('patch', 'deployment', 'stuck', '-p', '{"spec":{"progressDeadlineSeconds":2}}');
    const r = await api.kubectlResult(['rollout', 'status', 'deployment/stuck', '--timeout=60s']);
    expect(r.stderr).toContain('deployment "stuck" exceeded its progress deadline');
    expect(
      await api.kubectl(
        'get',
        'deployment',
        'stuck',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Progressing")].status} {.status.conditions[?(@.type=="Progressing")].reason}',
      ),
    ).toBe('False ProgressDeadlineExceeded');
  });
});

describe('deletion propagation', () => {
  it('deletes ReplicaSets and pods after their Deployment (background)', async () => {
    await deployment('bg', 2);
    await api.kubectl('delete', 'deployment', 'bg');
    await expect.poll(() => names('rs,pods', '-l', 'app=bg'), { timeout: 20_000 }).toEqual([]);
  });

  it('keeps the Deployment until its dependents are gone (foreground)', async () => {
    await deployment('fg', 2);
    // kubectl waits for the Deployment itself to be gone, which takes its dependents going first
    await api.kubectl('delete', 'deployment', 'fg', '--cascade=foreground', '--timeout=30s');
    expect(await names('deployments,rs,pods', '-l', 'app=fg')).toEqual([]);
    expect((await api.kubectlResult(['get', 'deployment', 'fg'])).stderr).toContain('NotFound');
  });

  it('leaves dependents in place, without the owner reference, when orphaned', async () => {
    await deployment('orphans', 2);
    await api.kubectl('delete', 'deployment', 'orphans', '--cascade=orphan');
    await expect.poll(() => api.kubectl('get', 'rs', '-l', 'app=orphans', '-o', 'jsonpath={.items[0].metadata.ownerReferences}'), { timeout: 20_000 }).toBe('');
    expect((await api.kubectlResult(['get', 'deployment', 'orphans'])).stderr).toContain('NotFound');
    expect(await names('pods', '-l', 'app=orphans')).toHaveLength(2);
    // the orphaned ReplicaSet still keeps its pods
    await api.kubectl('delete', (await names('pods', '-l', 'app=orphans'))[0] as string);
    await expect.poll(() => names('pods', '-l', 'app=orphans'), { timeout: 20_000 }).toHaveLength(2);
  });

  it('rejects an unknown propagation policy with a field cause', async () => {
    await deployment('policy', 1);
    const r = await api.kubectlResult(['delete', '--raw', '/apis/apps/v1/namespaces/default/deployments/policy?propagationPolicy=Sideways']);
    expect(r.stderr).toContain('Unsupported value: "Sideways"');
    expect(await names('deployments', '-l', 'app=policy')).toEqual(['deployment.apps/policy']);
  });
});

describe('namespaces', () => {
  it('gives a new namespace its default ServiceAccount and the cluster CA', async () => {
    await api.kubectl('create', 'namespace', 'fresh');
    await expect
      .poll(() => names('serviceaccounts,configmaps', '-n', 'fresh'), { timeout: 10_000 })
      .toEqual(['configmap/kube-root-ca.crt', 'serviceaccount/default']);
    const ca = await api.kubectl('get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '-o', 'jsonpath={.data.ca\\.crt}');
    expect(ca).toContain('-----BEGIN CERTIFICATE-----');
    // put back when deleted
    await api.kubectl('delete', 'serviceaccount', 'default', '-n', 'fresh');
    await expect.poll(() => names('serviceaccounts', '-n', 'fresh'), { timeout: 10_000 }).toEqual(['serviceaccount/default']);
  });

  it('deletes everything in a deleted namespace, then the namespace', async () => {
    await api.kubectl('create', 'namespace', 'doomed');
    await api.kubectl('create', 'deployment', 'web', '-n', 'doomed', '--image=busybox', '--replicas=2');
    await api.kubectl('create', 'secret', 'generic', 'token', '-n', 'doomed', '--from-literal=a=b');
    await expect.poll(() => names('pods', '-n', 'doomed'), { timeout: 20_000 }).toHaveLength(2);
    // kubectl waits for the namespace to be gone
    expect(await api.kubectl('delete', 'namespace', 'doomed', '--timeout=60s')).toContain('namespace "doomed" deleted');
    expect((await api.kubectlResult(['get', 'namespace', 'doomed'])).stderr).toContain('NotFound');
    // nothing is left behind in storage (the namespace is gone, so ask by raw path)
    for (const path of [
      '/apis/apps/v1/namespaces/doomed/deployments',
      '/apis/apps/v1/namespaces/doomed/replicasets',
      '/api/v1/namespaces/doomed/pods',
      '/api/v1/namespaces/doomed/secrets',
      '/api/v1/namespaces/doomed/configmaps',
      '/api/v1/namespaces/doomed/serviceaccounts',
    ]) {
      expect(JSON.parse(await api.kubectl('get', '--raw', path)).items, path).toEqual([]);
    }
  });
});

describe('quotas and disruption budgets', () => {
  it("refuses pods past a ResourceQuota with Kubernetes' message and reports usage", async () => {
    await api.kubectl('create', 'namespace', 'limited');
    await api.kubectl('create', 'quota', 'small', '-n', 'limited', '--hard=pods=2,requests.cpu=1');
    const pod = (name: string, cpu: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'limited' },
        spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }] },
      });
    expect((await api.kubectlResult(['apply', '-f', '-'], pod('a', '600m'))).code).toBe(0);
    const tooMuchCpu = await api.kubectlResult(['apply', '-f', '-'], pod('b', '500m'));
    expect(tooMuchCpu.stderr).toContain(
      'pods "b" is forbidden: exceeded quota: small, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1',
    );
    expect((await api.kubectlResult(['apply', '-f', '-'], pod('b', '400m'))).code).toBe(0);
    expect((await api.kubectlResult(['apply', '-f', '-'], pod('c', '0'))).stderr).toContain(
      'exceeded quota: small, requested: pods=1, used: pods=2, limited: pods=2',
    );
    await expect
      .poll(() => api.kubectl('get', 'quota', 'small', '-n', 'limited', '-o', 'jsonpath={.status.used.pods} {.status.used.requests\\.cpu}'), {
        timeout: 20_000,
      })
      .toBe('2 1');
    // a ReplicaSet that runs into the quota says so
    await api.kubectl('delete', 'pod', 'b', '-n', 'limited');
    await api.kubectl('create', 'deployment', 'many', '-n', 'limited', '--image=busybox', '--replicas=3');
    await expect
      .poll(() => api.kubectl('get', 'events', '-n', 'limited', '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={.items[*].message}'), {
        timeout: 20_000,
      })
      .toContain('exceeded quota: small');
    await api.kubectl('delete', 'namespace', 'limited', '--wait=false');
  });

  it("keeps a PodDisruptionBudget's status current", async () => {
    await api.kubectl('create', 'deployment', 'guarded', '--image=busybox', '--replicas=3');
    await api.kubectl('create', 'pdb', 'guarded', '--selector=app=guarded', '--min-available=2');
    // the pods never become ready here (no node), so nothing may be disrupted
    await expect
      .poll(
        () =>
          api.kubectl(
            'get',
            'pdb',
            'guarded',
            '-o',
            'jsonpath={.status.expectedPods} {.status.currentHealthy} {.status.desiredHealthy} {.status.disruptionsAllowed} {.status.conditions[0].reason}',
          ),
        { timeout: 20_000 },
      )
      .toBe('3 0 2 0 InsufficientPods');
    await api.kubectl('scale', 'deployment', 'guarded', '--replicas=4');
    await expect.poll(() => api.kubectl('get', 'pdb', 'guarded', '-o', 'jsonpath={.status.expectedPods}'), { timeout: 20_000 }).toBe('4');
  });
});

describe('node IPAM', () => {
  it('gives a node without a pod CIDR the next free one from the cluster CIDR', async () => {
    await api.kubectlResult(['apply', '-f', '-'], '{"apiVersion":"v1","kind":"Node","metadata":{"name":"has-cidr"},"spec":{"podCIDR":"10.244.0.0/24"}}');
    await api.kubectlResult(['apply', '-f', '-'], '{"apiVersion":"v1","kind":"Node","metadata":{"name":"needs-cidr"}}');
    await expect
      .poll(() => api.kubectl('get', 'node', 'needs-cidr', '-o', 'jsonpath={.spec.podCIDR} {.spec.podCIDRs[0]}'), { timeout: 10_000 })
      .toBe('10.244.1.0/24 10.244.1.0/24');
  });
});

describe('certificate signing requests', () => {
  it('signs an approved request so its holder can log in as the subject it asked for', async () => {
    const key = join(api.dir, 'dev.key');
    const request = await certificateRequest({ keyFile: key, requestFile: join(api.dir, 'dev.csr'), subject: '/O=developers/CN=dana' });
    const created = await api.kubectlResult(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name: 'dana' },
        spec: { request, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 3600, username: 'someone-else' },
      }),
    );
    expect(created.code, created.stderr).toBe(0);
    // the requester is who sent it, not what the body claimed
    expect(await api.kubectl('get', 'csr', 'dana', '-o', 'jsonpath={.spec.username}')).toBe('skiff-admin');
    expect(await api.kubectl('get', 'csr', 'dana', '--no-headers')).toMatch(
      /^dana\s+\S+\s+kubernetes.io\/kube-apiserver-client\s+skiff-admin\s+60m\s+Pending$/m,
    );
    await api.kubectl('certificate', 'approve', 'dana');
    await expect.poll(() => api.kubectl('get', 'csr', 'dana', '-o', 'jsonpath={.status.certificate}'), { timeout: 20_000 }).not.toBe('');
    expect(await api.kubectl('get', 'csr', 'dana', '--no-headers')).toMatch(/Approved,Issued$/m);

    const cert = Buffer.from(await api.kubectl('get', 'csr', 'dana', '-o', 'jsonpath={.status.certificate}'), 'base64').toString();
    await writeFile(join(api.dir, 'dev.crt'), cert);
    const kubeconfig = join(api.dir, 'dana.kubeconfig');
    const cfg = await readFile(api.kubeconfig, 'utf8');
    const server = /server: (\S+)/.exec(cfg)?.[1] as string;
    const caData = /certificate-authority-data: (\S+)/.exec(cfg)?.[1] as string;
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: ${server}, certificate-authority-data: ${caData}}}]\nusers: [{name: dana, user: {client-certificate: ${join(api.dir, 'dev.crt')}, client-key: ${key}}}]\ncontexts: [{name: c, context: {cluster: c, user: dana}}]\ncurrent-context: c\n`,
    );
    const whoami = execFileSync(KUBECTL, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
    }).toString();
    expect(whoami).toBe('dana ["developers","system:authenticated"]');
  });
});

describe('ValidatingAdmissionPolicy status', () => {
  it('reports the expressions that do not type check against the kinds the policy matches, each generation', async () => {
    const policy = (expression: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: typed.example.com}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments, statefulsets]}]
  validations:
  - expression: "${expression}"
  - expression: "object.spec.template.spec.containers.all(c, c.image != '')"
`;
    const applied = await api.kubectlResult(['apply', '-f', '-'], policy('object.spec.replicsa <= 5'));
    expect(applied.code, applied.stderr).toBe(0);
    const status = async () =>
      JSON.parse((await api.kubectl('get', 'validatingadmissionpolicy', 'typed.example.com', '-o', 'jsonpath={.status}')) || '{}') as {
        observedGeneration?: number;
        typeChecking?: { expressionWarnings?: { fieldRef: string; warning: string }[] };
      };
    await expect.poll(async () => (await status()).observedGeneration, { timeout: 10_000 }).toBe(1);
    const [warning, ...others] = (await status()).typeChecking?.expressionWarnings ?? [];
    expect(others).toEqual([]);
    expect(warning?.fieldRef).toBe('spec.validations[0].expression');
    expect(warning?.warning.split('\n').filter((l) => l.includes('Kind='))).toEqual([
      'apps/v1, Kind=Deployment: ERROR: <input>:1:13: No such key: replicsa',
      'apps/v1, Kind=StatefulSet: ERROR: <input>:1:13: No such key: replicsa',
    ]);
    // the next generation, mended, has no warnings left
    await api.kubectlResult(['apply', '-f', '-'], policy('object.spec.replicas <= 5'));
    await expect.poll(async () => (await status()).observedGeneration, { timeout: 10_000 }).toBe(2);
    expect((await status()).typeChecking?.expressionWarnings).toBeUndefined();
  });
});
