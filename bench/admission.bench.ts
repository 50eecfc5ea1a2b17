// What admission and encryption at rest cost, each against the same run
// without: pod creates in a namespace with PodSecurity (enforce baseline,
// warn restricted), a LimitRange, ten ValidatingAdmissionPolicies and a
// validating webhook (a loopback HTTPS server of the bench's own), in turns
// with creates in a namespace with none;
// and Secret writes and reads on a server that encrypts them (aescbc, the
// default) in turns with one that does not. One JSON line per case.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, issueCert, loadKubeconfig, type ClientConfig } from '../apimachinery/index.ts';
import { startTestApiServer, type TestApiServer } from '../lab/testbed/index.ts';
import { send } from './client.ts';
import { summary } from './stats.ts';

const N = 200;
const base = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
const emit = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, ...base })}\n`);

async function timed(cfg: ClientConfig, agent: Agent, method: string, path: string, body?: object): Promise<number> {
  const t0 = performance.now();
  const r = await send(cfg, agent, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
  return performance.now() - t0;
}

const dir = await mkdtemp(join(tmpdir(), 'sk-bench-admission-'));
const ca = await createCA('bench-webhook-ca');
const serving = await issueCert(ca, { commonName: 'bench-webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
const webhook = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c));
  req.on('end', () => {
    const { request } = JSON.parse(body) as { request: { uid: string } };
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request.uid, allowed: true } }));
  });
});
await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', () => resolve()));
const servers: TestApiServer[] = [];
try {
  const encrypted = await startTestApiServer(join(dir, 'encrypted'), ['--disable-scheduler', '--disable-controllers']);
  servers.push(encrypted);
  const plain = await startTestApiServer(join(dir, 'plain'), ['--disable-scheduler', '--disable-controllers', '--no-secrets-encryption']);
  servers.push(plain);
  const cfg = await loadKubeconfig(encrypted.kubeconfig);
  const plainCfg = await loadKubeconfig(plain.kubeconfig);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const plainAgent = new Agent({ keepAlive: true, maxSockets: 1 });

  // admission: a guarded namespace and an unguarded one
  const port = (webhook.address() as AddressInfo).port;
  for (const [name, labels] of [
    ['unguarded', {}],
    ['guarded', { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted', webhooks: 'on' }],
  ] as const)
    await timed(cfg, agent, 'POST', '/api/v1/namespaces', { metadata: { name, labels } });
  await timed(cfg, agent, 'POST', '/api/v1/namespaces/guarded/limitranges', {
    metadata: { name: 'defaults' },
    spec: { limits: [{ type: 'Container', default: { cpu: '100m', memory: '64Mi' }, max: { memory: '1Gi' } }] },
  });
  await timed(cfg, agent, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
    metadata: { name: 'bench' },
    webhooks: [
      {
        name: 'bench.skiff.example.com',
        clientConfig: { url: `https://127.0.0.1:${port}/`, caBundle: Buffer.from(ca.cert).toString('base64') },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        namespaceSelector: { matchLabels: { webhooks: 'on' } },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
      },
    ],
  });
  // ten policies of the kind clusters run, each bound to the guarded namespace
  for (let i = 0; i < 10; i++) {
    await timed(cfg, agent, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies', {
      metadata: { name: `bench-${i}.example.com` },
      spec: {
        matchConstraints: { resourceRules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }] },
        variables: [{ name: 'containers', expression: 'object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])' }],
        validations: [
          { expression: `variables.containers.all(c, c.image != '' && !c.image.startsWith('forbidden-${i}/'))`, message: `no images from forbidden-${i}` },
          { expression: `!has(object.metadata.labels) || !('blocked-${i}' in object.metadata.labels)` },
        ],
      },
    });
    await timed(cfg, agent, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings', {
      metadata: { name: `bench-${i}` },
      spec: { policyName: `bench-${i}.example.com`, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { webhooks: 'on' } } } },
    });
  }
  await new Promise((r) => setTimeout(r, 1000));
  const pod = (name: string) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  // the policies act (their bindings reached the server's cache): a pod they refuse is refused
  const refused = await send(cfg, agent, 'POST', '/api/v1/namespaces/guarded/pods', {
    ...pod('refused'),
    metadata: { name: 'refused', labels: { 'blocked-9': 'x' } },
  });
  if (refused.status !== 422) throw new Error(`the admission policies did not refuse a pod they should: ${refused.status} ${refused.text.slice(0, 200)}`);
  const times: Record<string, number[]> = { unguarded: [], guarded: [] };
  for (let i = 0; i < N; i++) {
    for (const ns of ['unguarded', 'guarded']) times[ns]?.push(await timed(cfg, agent, 'POST', `/api/v1/namespaces/${ns}/pods`, pod(`p${i}`)));
  }
  const [none, guarded] = [summary(times.unguarded ?? [], 2), summary(times.guarded ?? [], 2)];
  emit({ name: 'admission/pod-create-none', ...none });
  emit({ name: 'admission/pod-create-guarded', ...guarded, ratio_p50: +(guarded.p50_ms / none.p50_ms).toFixed(2) });

  // encryption at rest: the same Secret writes and reads, encrypted and not, in turns
  const secret = (name: string) => ({ metadata: { name }, stringData: { password: 'x'.repeat(256) } });
  const writes: Record<string, number[]> = { aescbc: [], identity: [] };
  const reads: Record<string, number[]> = { aescbc: [], identity: [] };
  for (let i = 0; i < N; i++) {
    writes.aescbc?.push(await timed(cfg, agent, 'POST', '/api/v1/namespaces/default/secrets', secret(`s${i}`)));
    writes.identity?.push(await timed(plainCfg, plainAgent, 'POST', '/api/v1/namespaces/default/secrets', secret(`s${i}`)));
    reads.aescbc?.push(await timed(cfg, agent, 'GET', `/api/v1/namespaces/default/secrets/s${i}`));
    reads.identity?.push(await timed(plainCfg, plainAgent, 'GET', `/api/v1/namespaces/default/secrets/s${i}`));
  }
  for (const provider of ['aescbc', 'identity']) {
    emit({ name: `encryption/secret-write-${provider}`, ...summary(writes[provider] ?? [], 2) });
    emit({ name: `encryption/secret-read-${provider}`, ...summary(reads[provider] ?? [], 2) });
  }
  agent.destroy();
  plainAgent.destroy();
} finally {
  for (const s of servers) await s.stop();
  webhook.close();
  webhook.closeAllConnections();
  await rm(dir, { recursive: true, force: true });
}
