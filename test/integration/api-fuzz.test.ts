// API input fuzzing with fast-check: random create, update, patch and
// server-side apply bodies for built-in kinds and a custom resource, each a
// valid object with random JSON put in at random places. Whatever comes, the API server answers with a 4xx or a 2xx, never
// a 5xx; what it stores passes its own validation again; and a refused write
// leaves the object as it was.
import { request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCert, type KeyPair } from '../../apimachinery/index.ts';
import type { ApiServer, ClusterPki } from '../../control-plane/index.ts';
import { startInProcessServer, type InProcessServer } from '../harness/in-process-server.ts';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

let dir = '';
let running: InProcessServer | undefined;
let pki: ClusterPki;
let server: ApiServer;
/** a cluster administrator's certificate (system:masters) */
let admin: KeyPair;

function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path,
        ca: pki.ca.cert,
        cert: admin.cert,
        key: admin.key,
        headers: { 'content-type': contentType, accept: 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // a body that is no JSON is judged by its status alone
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}

/** One valid object of each kind, and where it lives. */
const SEEDS: { path: string; object: Record<string, unknown> }[] = [
  { path: '/api/v1/namespaces/default/configmaps', object: { apiVersion: 'v1', kind: 'ConfigMap', data: { k: 'v' } } },
  { path: '/api/v1/namespaces/default/secrets', object: { apiVersion: 'v1', kind: 'Secret', stringData: { k: 'v' }, type: 'Opaque' } },
  {
    path: '/api/v1/namespaces/default/pods',
    object: { apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] } },
  },
  {
    path: '/api/v1/namespaces/default/services',
    object: { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'x' } } },
  },
  {
    path: '/apis/apps/v1/namespaces/default/deployments',
    object: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'x' } },
        template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    },
  },
  {
    path: '/apis/batch/v1/namespaces/default/jobs',
    object: { apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
  },
  {
    path: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles',
    object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  },
  {
    path: '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies',
    object: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { a: 'b' } } }] }] },
    },
  },
];

/** A custom resource whose schema has what CRDs in the wild use: bounds, an enum, set and map lists, unknown fields kept, a CEL rule. */
const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gizmos.fuzz.example.com' },
  spec: {
    group: 'fuzz.example.com',
    names: { plural: 'gizmos', singular: 'gizmo', kind: 'Gizmo' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['replicas'],
                'x-kubernetes-validations': [{ rule: 'self.replicas <= 10 || self.mode == "b"', message: 'over 10 only in mode b' }],
                properties: {
                  replicas: { type: 'integer', minimum: 0, maximum: 20 },
                  mode: { type: 'string', enum: ['a', 'b'], default: 'a' },
                  tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
                  ports: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['name'],
                    items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } },
                  },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  target: { 'x-kubernetes-int-or-string': true },
                },
              },
              status: { type: 'object', properties: { ready: { type: 'boolean' } } },
            },
          },
        },
      },
    ],
  },
};
SEEDS.push({
  path: '/apis/fuzz.example.com/v1/namespaces/default/gizmos',
  object: { apiVersion: 'fuzz.example.com/v1', kind: 'Gizmo', spec: { replicas: 1, tags: ['x'], ports: [{ name: 'http', port: 80 }], target: 8080 } },
});

/** Where in an object a random value goes: a path of keys and indexes, and the value. */
const mutation = fc.record({
  path: fc.array(
    fc.oneof(
      fc.constantFrom(
        'metadata',
        'spec',
        'data',
        'labels',
        'annotations',
        'containers',
        'ports',
        'template',
        'selector',
        'name',
        'rules',
        'type',
        'status',
        'replicas',
        'mode',
        'tags',
        'extra',
      ),
      fc.nat(2),
    ),
    {
      minLength: 1,
      maxLength: 5,
    },
  ),
  value: fc.jsonValue({ maxDepth: 3 }),
});

/** The object with each mutation put in place, making the containers it passes through as it goes. */
function mutate(object: Record<string, unknown>, mutations: { path: (string | number)[]; value: unknown }[]): unknown {
  const copy = structuredClone(object) as Record<string, unknown>;
  for (const { path, value } of mutations) {
    let at: Record<string | number, unknown> = copy;
    for (const [i, step] of path.entries()) {
      if (i === path.length - 1) {
        at[step] = value;
        break;
      }
      const next = at[step];
      if (typeof next !== 'object' || next === null) at[step] = typeof path[i + 1] === 'number' ? [] : {};
      at = at[step] as Record<string | number, unknown>;
    }
  }
  return copy;
}

const PATCH_TYPES = ['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json', 'application/apply-patch+yaml'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sk-afuzz-'));
  running = await startInProcessServer(dir);
  ({ server, pki } = running);
  admin = await issueCert(pki.ca, { commonName: 'fuzzer', organizations: ['system:masters'], usage: 'client' });
  const crd = await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', CRD);
  expect(crd.status, JSON.stringify(crd.body)).toBe(201);
  // served once established
  for (let i = 0; i < 100 && (await call('GET', '/apis/fuzz.example.com/v1/namespaces/default/gizmos')).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 100));
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('random request bodies', () => {
  it('never get a 5xx, never store what validation refuses, never half-write', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(SEEDS.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('PUT', ...PATCH_TYPES),
        async (seedIndex, createMutations, updateMutations, updateKind) => {
          const seed = SEEDS[seedIndex] as (typeof SEEDS)[number];
          const name = `fuzz-${n++}`;
          const self = `${seed.path}/${name}`;
          const created = await call('POST', seed.path, mutate({ ...seed.object, metadata: { name } }, createMutations));
          expect(created.status, JSON.stringify(created.body)).toBeLessThan(500);
          // make sure there is something to update: the seed as it is
          const base = created.status < 300 ? created : await call('POST', seed.path, { ...seed.object, metadata: { name } });
          expect(base.status, JSON.stringify(base.body)).toBe(201);
          const before = await call('GET', self);
          let update: Answer;
          if (updateKind === 'PUT') update = await call('PUT', self, mutate(before.body, updateMutations));
          else if (updateKind === 'application/json-patch+json')
            update = await call(
              'PATCH',
              self,
              updateMutations.map((m) => ({ op: 'add', path: `/${m.path.join('/')}`, value: m.value })),
              updateKind,
            );
          else if (updateKind === 'application/apply-patch+yaml')
            // an applied configuration names the object; JSON is YAML
            update = await call(
              'PATCH',
              `${self}?fieldManager=fuzz&force=true`,
              mutate({ apiVersion: seed.object.apiVersion, kind: seed.object.kind, metadata: { name } }, updateMutations),
              updateKind,
            );
          else update = await call('PATCH', self, mutate({}, updateMutations), updateKind);
          expect(update.status, `${updateKind}: ${JSON.stringify(update.body)}`).toBeLessThan(500);
          const after = await call('GET', self);
          if (update.status >= 400) expect(after.body, 'a refused write changed nothing').toEqual(before.body);
          // what is stored passes validation again
          const again = await call('PUT', `${self}?dryRun=All`, after.body);
          expect(again.status, `stored ${JSON.stringify(after.body)} is refused: ${JSON.stringify(again.body)}`).toBe(200);
        },
      ),
      { numRuns: 1000, seed: 1 },
    );
  }, 300_000);
});
