import { connect } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig, type ClientConfig } from '../../apimachinery/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';
import { rawRequest, type RawRequest } from '../../lab/testbed/index.ts';

// A corpus of bad requests sent past kubectl, byte for byte: each must get
// the Kubernetes Status with the right code and reason, and none may write
// anything (the store's revision and every object are as before).

// compaction every second, so history older than that is gone for the test of 410s
const api = useTestApiServer('sk-bad-input-', ['--disable-scheduler', '--disable-controllers', '--etcd-compaction-interval', '1s']);
let cfg: ClientConfig;

beforeAll(async () => {
  cfg = await loadKubeconfig(api.kubeconfig);
});

const CM = '/api/v1/namespaces/default/configmaps';
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';
const configMap = (name: string, extra: object = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' }, ...extra });
const deployment = (replicas: unknown) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'bad' },
  spec: { replicas, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
});

interface Case extends RawRequest {
  name: string;
  code: number;
  reason: string;
  message?: RegExp;
}

const CORPUS: Case[] = [
  { name: 'malformed JSON', method: 'POST', path: CM, body: '{"metadata": {"name": "x"', code: 400, reason: 'BadRequest' },
  { name: 'a JSON array for an object', method: 'POST', path: CM, body: '[1,2]', code: 400, reason: 'BadRequest' },
  { name: 'an empty body', method: 'POST', path: CM, body: '', code: 400, reason: 'BadRequest' },
  {
    name: 'malformed YAML in an apply',
    method: 'PATCH',
    path: `${CM}/existing?fieldManager=t`,
    contentType: 'application/apply-patch+yaml',
    body: 'metadata: {name: [',
    code: 400,
    reason: 'BadRequest',
  },
  {
    name: 'the wrong apiVersion',
    method: 'POST',
    path: CM,
    body: { ...configMap('x'), apiVersion: 'apps/v1' },
    code: 400,
    reason: 'BadRequest',
    message: /API version in the data \(apps\/v1\)/,
  },
  {
    name: 'the wrong kind',
    method: 'POST',
    path: CM,
    body: { ...configMap('x'), kind: 'Secret' },
    code: 400,
    reason: 'BadRequest',
    message: /kind in the data \(Secret\)/,
  },
  {
    name: 'an invalid name',
    method: 'POST',
    path: CM,
    body: configMap('Not_A_Name'),
    code: 422,
    reason: 'Invalid',
    message: /metadata\.name: Invalid value: "Not_A_Name"/,
  },
  {
    name: 'an unknown field under Strict',
    method: 'POST',
    path: `${CM}?fieldValidation=Strict`,
    body: configMap('x', { extra: 1 }),
    code: 400,
    reason: 'BadRequest',
    message: /strict decoding error: unknown field "extra"/,
  },
  {
    name: 'a value of the wrong type',
    method: 'POST',
    path: CM,
    body: configMap('x', { data: 'text' }),
    code: 400,
    reason: 'BadRequest',
    message: /cannot unmarshal string into field "data"/,
  },
  { name: 'an unsupported fieldValidation', method: 'POST', path: `${CM}?fieldValidation=Loud`, body: configMap('x'), code: 400, reason: 'BadRequest' },
  {
    name: 'a body over 3 MiB',
    method: 'POST',
    path: CM,
    body: configMap('huge', { data: { k: 'x'.repeat(3 * 1024 * 1024) } }),
    code: 413,
    reason: 'RequestEntityTooLarge',
  },
  { name: 'a duplicate name', method: 'POST', path: CM, body: configMap('existing'), code: 409, reason: 'AlreadyExists' },
  {
    name: 'a stale resourceVersion',
    method: 'PUT',
    path: `${CM}/existing`,
    body: { ...configMap('existing'), metadata: { name: 'existing', resourceVersion: '1' } },
    code: 409,
    reason: 'Conflict',
    message: /the object has been modified/,
  },
  { name: 'a name that differs from the URL', method: 'PUT', path: `${CM}/existing`, body: configMap('other'), code: 400, reason: 'BadRequest' },
  { name: 'an unsupported media type', method: 'POST', path: CM, contentType: 'text/plain', body: 'hello', code: 415, reason: 'UnsupportedMediaType' },
  {
    name: 'an unsupported patch type',
    method: 'PATCH',
    path: `${CM}/existing`,
    contentType: 'application/json',
    body: '{}',
    code: 415,
    reason: 'UnsupportedMediaType',
  },
  { name: 'an answer type nobody serves', method: 'GET', path: CM, accept: 'application/xml', code: 406, reason: 'NotAcceptable' },
  {
    name: "OpenAPI v2's protobuf form asked of another path",
    method: 'GET',
    path: CM,
    accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
    code: 406,
    reason: 'NotAcceptable',
  },
  {
    name: 'a JSON patch whose test fails',
    method: 'PATCH',
    path: `${CM}/existing`,
    contentType: 'application/json-patch+json',
    body: [
      { op: 'test', path: '/data/k', value: 'nope' },
      { op: 'replace', path: '/data/k', value: 'w' },
    ],
    code: 422,
    reason: 'Invalid',
  },
  {
    name: 'an apply without a field manager',
    method: 'PATCH',
    path: `${CM}/existing`,
    contentType: 'application/apply-patch+yaml',
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: existing}\n',
    code: 422,
    reason: 'Invalid',
    message: /fieldManager: Required value/,
  },
  {
    name: 'force on a merge patch',
    method: 'PATCH',
    path: `${CM}/existing?force=true`,
    contentType: 'application/merge-patch+json',
    body: '{}',
    code: 422,
    reason: 'Invalid',
  },
  {
    name: 'a namespace that does not exist',
    method: 'POST',
    path: '/api/v1/namespaces/nowhere/configmaps',
    body: configMap('x'),
    code: 404,
    reason: 'NotFound',
  },
  { name: 'a resource that does not exist', method: 'GET', path: '/api/v1/namespaces/default/widgets', code: 404, reason: 'NotFound' },
  { name: 'a bad label selector', method: 'GET', path: `${CM}?labelSelector=${encodeURIComponent('a in (b')}`, code: 400, reason: 'BadRequest' },
  { name: 'a field selector the resource lacks', method: 'GET', path: `${CM}?fieldSelector=spec.nodeName%3Dn`, code: 400, reason: 'BadRequest' },
  { name: 'a bad continue token', method: 'GET', path: `${CM}?limit=1&continue=garbage`, code: 400, reason: 'BadRequest' },
  {
    name: 'resourceVersionMatch without a resourceVersion',
    method: 'GET',
    path: `${CM}?resourceVersionMatch=Exact`,
    code: 422,
    reason: 'Invalid',
    message: /resourceVersionMatch is forbidden unless resourceVersion is provided/,
  },
  { name: 'a resourceVersion that is not a number', method: 'GET', path: `${CM}?resourceVersion=latest`, code: 400, reason: 'BadRequest' },
  {
    name: 'a list from a resourceVersion not yet reached',
    method: 'GET',
    path: `${CM}?resourceVersion=999999999`,
    code: 504,
    reason: 'Timeout',
    message: /^Too large resource version: 999999999, current: \d+$/,
  },
  { name: 'negative replicas', method: 'POST', path: DEPLOY, body: deployment(-1), code: 422, reason: 'Invalid', message: /spec\.replicas/ },
  { name: 'replicas as a string', method: 'POST', path: DEPLOY, body: deployment('two'), code: 400, reason: 'BadRequest' },
  { name: 'an invalid dryRun', method: 'POST', path: `${CM}?dryRun=Some`, body: configMap('x'), code: 400, reason: 'BadRequest' },
  { name: 'a name that is no UTF-8', method: 'GET', path: `${CM}/%ff`, code: 404, reason: 'NotFound' },
  { name: 'a malformed escape in the path', method: 'GET', path: `${CM}/%ZZ`, code: 400, reason: 'BadRequest', message: /invalid URL escape "%ZZ"/ },
  {
    name: 'a merge patch of null',
    method: 'PATCH',
    path: `${CM}/existing`,
    contentType: 'application/merge-patch+json',
    body: 'null',
    code: 400,
    reason: 'BadRequest',
  },
  {
    name: 'a patch nested 50,000 levels',
    method: 'PATCH',
    path: `${CM}/existing`,
    contentType: 'application/merge-patch+json',
    body: `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`,
    code: 400,
    reason: 'BadRequest',
    message: /exceeded max depth/,
  },
  {
    name: 'a number as the name',
    method: 'POST',
    path: CM,
    body: { ...configMap('x'), metadata: { name: 5 } },
    code: 400,
    reason: 'BadRequest',
    message: /cannot unmarshal number into field "metadata.name" of type string/,
  },
  {
    name: 'an empty owner reference',
    method: 'POST',
    path: CM,
    body: { ...configMap('x'), metadata: { name: 'x', ownerReferences: [{}] } },
    code: 422,
    reason: 'Invalid',
    message: /metadata\.ownerReferences\.apiVersion: Invalid value: "": version must not be empty/,
  },
  {
    name: 'an invalid finalizer',
    method: 'POST',
    path: CM,
    body: { ...configMap('x'), metadata: { name: 'x', finalizers: ['no good'] } },
    code: 422,
    reason: 'Invalid',
    message: /metadata\.finalizers\[0\]: Invalid value: "no good"/,
  },
  {
    name: 'a finalizer neither standard nor qualified',
    method: 'POST',
    path: CM,
    body: { ...configMap('x'), metadata: { name: 'x', finalizers: ['keep'] } },
    code: 422,
    reason: 'Invalid',
    message: /name is neither a standard finalizer name nor is it fully qualified/,
  },
  {
    name: 'annotations over 256 KiB',
    method: 'POST',
    path: CM,
    body: { ...configMap('x'), metadata: { name: 'x', annotations: { a: 'x'.repeat(200_000), b: 'y'.repeat(70_000) } } },
    code: 422,
    reason: 'Invalid',
    message: /metadata\.annotations: Too long: may not be more than 262144 bytes/,
  },
  {
    name: 'a ConfigMap over 1 MiB',
    method: 'POST',
    path: CM,
    body: configMap('x', { data: { a: 'x'.repeat(600_000), b: 'y'.repeat(500_000) } }),
    code: 422,
    reason: 'Invalid',
    message: /Too long: may not be more than 1048576 bytes/,
  },
  {
    name: 'a Secret over 1 MiB',
    method: 'POST',
    path: '/api/v1/namespaces/default/secrets',
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, stringData: { a: 'x'.repeat(1_100_000) } },
    code: 422,
    reason: 'Invalid',
    message: /data: Too long: may not be more than 1048576 bytes/,
  },
  {
    name: 'a service account token Secret that names no account',
    method: 'POST',
    path: '/api/v1/namespaces/default/secrets',
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, type: 'kubernetes.io/service-account-token' },
    code: 422,
    reason: 'Invalid',
    message: /metadata\.annotations\[kubernetes\.io\/service-account\.name\]: Required value/,
  },
  { name: 'timeoutSeconds that is not a number', method: 'GET', path: `${CM}?timeoutSeconds=soon`, code: 400, reason: 'BadRequest' },
  { name: 'gracePeriodSeconds that is not a number', method: 'DELETE', path: `${CM}/existing?gracePeriodSeconds=later`, code: 400, reason: 'BadRequest' },
  {
    name: 'a resourceVersion in the body that is not a number',
    method: 'PUT',
    path: `${CM}/existing`,
    body: { ...configMap('existing'), metadata: { name: 'existing', resourceVersion: 'abc' } },
    code: 422,
    reason: 'Invalid',
    message: /metadata\.resourceVersion: Invalid value: "abc"/,
  },
  {
    name: "an update whose uid is another object's",
    method: 'PUT',
    path: `${CM}/existing`,
    body: { ...configMap('existing'), metadata: { name: 'existing', uid: '00000000-0000-0000-0000-000000000000' } },
    code: 409,
    reason: 'Conflict',
    message: /Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: /,
  },
  {
    name: 'a patch that renames',
    method: 'PATCH',
    path: `${CM}/existing`,
    contentType: 'application/merge-patch+json',
    body: { metadata: { name: 'renamed' } },
    code: 400,
    reason: 'BadRequest',
    message: /the name of the object \(renamed\) does not match the name on the URL \(existing\)/,
  },
  {
    name: 'a patch that changes the uid',
    method: 'PATCH',
    path: `${CM}/existing`,
    contentType: 'application/merge-patch+json',
    body: { metadata: { uid: '00000000-0000-0000-0000-000000000000' } },
    code: 422,
    reason: 'Invalid',
    message: /metadata\.uid: Invalid value: "00000000-0000-0000-0000-000000000000": field is immutable/,
  },
];

/** Everything stored that a request could have touched, and the store's revision. */
async function snapshot(): Promise<string> {
  const lists = await Promise.all(
    ['/api/v1/configmaps', '/apis/apps/v1/deployments', '/api/v1/namespaces'].map(
      async (path) =>
        JSON.parse((await rawRequest(cfg, { method: 'GET', path })).text) as {
          metadata: { resourceVersion: string };
          items: { metadata: { name: string; resourceVersion: string } }[];
        },
    ),
  );
  return JSON.stringify({
    revision: lists[0]?.metadata.resourceVersion,
    objects: lists.map((l) => l.items.map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}`)),
  });
}

describe('bad input', () => {
  it('gets the Kubernetes Status for each request of the corpus, and nothing is written', async () => {
    expect((await rawRequest(cfg, { method: 'POST', path: CM, body: configMap('existing') })).status).toBe(201);
    const before = await snapshot();
    const answers: string[] = [];
    for (const c of CORPUS) {
      const r = await rawRequest(cfg, c);
      let status: { kind?: string; code?: number; reason?: string; message?: string } = {};
      try {
        status = JSON.parse(r.text);
      } catch {
        // left empty: reported below as a mismatch
      }
      const ok =
        r.status === c.code &&
        status.kind === 'Status' &&
        status.code === c.code &&
        status.reason === c.reason &&
        (!c.message || c.message.test(status.message ?? ''));
      if (!ok) answers.push(`${c.name}: got ${r.status} ${status.reason} "${status.message ?? r.text.slice(0, 200)}", want ${c.code} ${c.reason}`);
    }
    expect(answers).toEqual([]);
    expect(await snapshot()).toBe(before);
    // and the server still serves
    expect((await rawRequest(cfg, { method: 'GET', path: `${CM}/existing` })).status).toBe(200);
  });

  it('answers 410 Gone for an exact list and a watch from history the compactor has forgotten', async () => {
    const created = JSON.parse((await rawRequest(cfg, { method: 'POST', path: CM, body: configMap('history') })).text) as {
      metadata: { resourceVersion: string };
    };
    const old = created.metadata.resourceVersion;
    await rawRequest(cfg, { method: 'PATCH', path: `${CM}/history`, contentType: 'application/merge-patch+json', body: { data: { k: 'w' } } });
    const exactOld = { method: 'GET', path: `${CM}?resourceVersion=${old}&resourceVersionMatch=Exact` };
    const deadline = Date.now() + 30_000;
    let answer = await rawRequest(cfg, exactOld);
    while (answer.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      answer = await rawRequest(cfg, exactOld);
    }
    expect(answer.status).toBe(410);
    expect(JSON.parse(answer.text)).toMatchObject({ kind: 'Status', reason: 'Gone', message: 'The resourceVersion for the provided list is too old.' });
    const watch = await rawRequest(cfg, { method: 'GET', path: `${CM}?watch=true&resourceVersion=${Number(old) - 1}` });
    expect(watch.status).toBe(410);
    // what is current stays readable at its own revision
    const now = JSON.parse((await rawRequest(cfg, { method: 'GET', path: CM })).text) as { metadata: { resourceVersion: string } };
    const exactNow = await rawRequest(cfg, { method: 'GET', path: `${CM}?resourceVersion=${now.metadata.resourceVersion}&resourceVersionMatch=Exact` });
    expect(exactNow.status).toBe(200);
  });
});

/** Sends `head` as it is over TLS with the admin's certificate; resolves with the status code and body of the one answer. */
function sendRaw(head: string): Promise<{ status: number; body: string }> {
  const url = new URL(cfg.server);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca: cfg.ca, cert: cfg.cert, key: cfg.key }, () => socket.end(head));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('requests the router never sees', () => {
  it('answers CONNECT with 405 MethodNotAllowed instead of dropping the connection', async () => {
    const answer = await sendRaw(`CONNECT ${CM} HTTP/1.1\r\nHost: skiff\r\n\r\n`);
    expect(answer.status).toBe(405);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', code: 405, reason: 'MethodNotAllowed' });
  });

  it('answers a 200 KB URL with 414 and oversized headers with 431, each a Status', async () => {
    const longUrl = await sendRaw(`GET ${CM}/${'a'.repeat(200_000)} HTTP/1.1\r\nHost: skiff\r\n\r\n`);
    expect(longUrl.status).toBe(414);
    expect(JSON.parse(longUrl.body)).toMatchObject({ kind: 'Status', code: 414 });
    const bigHeader = await sendRaw(`GET ${CM} HTTP/1.1\r\nHost: skiff\r\nX-Filler: ${'b'.repeat(1_100_000)}\r\n\r\n`);
    expect(bigHeader.status).toBe(431);
    // and the server still serves
    expect((await rawRequest(cfg, { method: 'GET', path: CM })).status).toBe(200);
  });

  it('takes an Impersonate-Extra- key that is no valid escape as it is written, as kube-apiserver does', async () => {
    const r = await rawRequest(cfg, { method: 'GET', path: CM, headers: { 'Impersonate-User': 'someone', 'Impersonate-Extra-team%ZZ': 'x' } });
    // the admin may impersonate anyone; someone may not list ConfigMaps
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text)).toMatchObject({ reason: 'Forbidden', message: expect.stringContaining('User "someone" cannot list resource "configmaps"') });
  });

  it('takes a body without kind as the kind its URL names, as the decoder does', async () => {
    const r = await rawRequest(cfg, { method: 'POST', path: CM, body: { apiVersion: 'v1', metadata: { name: 'kindless' }, data: { k: 'v' } } });
    expect(r.status).toBe(201);
    expect(JSON.parse(r.text)).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'kindless' } });
  });

  it('reads data: null as no data and a null value as the empty one, for ConfigMaps and Secrets', async () => {
    const cm = await rawRequest(cfg, { method: 'POST', path: CM, body: { ...configMap('nulls'), data: { a: null, b: 'x' }, binaryData: null } });
    expect(cm.status).toBe(201);
    expect(JSON.parse(cm.text)).toMatchObject({ data: { a: '', b: 'x' } });
    expect(JSON.parse(cm.text).binaryData).toBeUndefined();
    const secret = await rawRequest(cfg, {
      method: 'POST',
      path: '/api/v1/namespaces/default/secrets',
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'nulls' }, data: null, stringData: { k: 'v' } },
    });
    expect(secret.status).toBe(201);
    expect(JSON.parse(secret.text)).toMatchObject({ data: { k: 'dg==' } });
  });
});
