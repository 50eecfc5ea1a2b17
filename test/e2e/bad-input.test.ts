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
    name: 'OpenAPI v2 in protobuf only',
    method: 'GET',
    path: '/openapi/v2',
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
