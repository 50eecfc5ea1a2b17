import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../lab/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

// CustomResourceDefinitions through the real kubectl: the definition in
// test/fixtures/crds/crontab.yaml is established and served in both its versions (discovery,
// explain, printer columns, defaults and validation (CEL rules too) from its schema, status and scale),
// and deleting it takes its objects with it (after their finalizers).

const api = useTestApiServer('sk-crd-', ['--disable-scheduler', '--disable-controllers']);
let definition: string;

beforeAll(async () => {
  definition = await readFile(new URL('../fixtures/crds/crontab.yaml', import.meta.url), 'utf8');
});

const cronTab = (spec: string) => `
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: nightly}
spec: ${spec}
`;
const apply = (yaml: string) => api.kubectlResult(['apply', '-f', '-'], yaml);

describe('custom resources', () => {
  it('establishes a definition and serves its resource in discovery and explain', async () => {
    expect((await apply(definition)).code).toBe(0);
    await api.kubectl('wait', '--for=condition=established', 'crd/crontabs.stable.example.com', '--timeout=30s');
    const crd = JSON.parse(await api.kubectl('get', 'crd', 'crontabs.stable.example.com', '-o', 'json'));
    expect(crd.status.acceptedNames).toMatchObject({ plural: 'crontabs', kind: 'CronTab' });
    expect(crd.status.storedVersions).toEqual(['v1']);
    expect(await api.kubectl('api-resources', '--api-group=stable.example.com', '--no-headers')).toMatch(
      /^crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab$/m,
    );
    const explained = await api.kubectl('explain', 'crontab.spec');
    expect(explained).toMatch(/^ {2}cronSpec\t<string> -required-$/m);
    expect(explained).toContain('The schedule');
  });

  it('stores objects and shows them with the printer columns', async () => {
    expect((await apply(cronTab('{cronSpec: "0 3 * * *", image: busybox, replicas: 1}'))).stdout).toContain('crontab.stable.example.com/nightly created');
    const table = await api.kubectl('get', 'ct');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+SPEC\s+REPLICAS\s+AGE$/);
    expect(table).toMatch(/^nightly\s+0 3 \* \* \*\s+1\s+\d+s$/m);
    // the schema's default for what the object left out
    expect(await api.kubectl('get', 'ct', 'nightly', '-o', 'jsonpath={.spec.mode}')).toBe('slow');
    // field selectors on the version's selectableFields, and only those
    expect(await api.kubectl('get', 'ct', '--field-selector', 'spec.image=busybox', '-o', 'name')).toBe('crontab.stable.example.com/nightly\n');
    expect(await api.kubectl('get', 'ct', '--field-selector', 'spec.image=nginx', '-o', 'name')).toBe('');
    expect((await api.kubectlResult(['get', 'ct', '--field-selector', 'spec.mode=slow'])).stderr).toContain('field label not supported: spec.mode');
  });

  it('serves the same objects in each served version, preferring the newest', async () => {
    expect(await api.kubectl('get', 'crontabs.v1beta1.stable.example.com', 'nightly', '-o', 'jsonpath={.apiVersion} {.spec.cronSpec}')).toBe(
      'stable.example.com/v1beta1 0 3 * * *',
    );
    const older = cronTab('{cronSpec: "0 5 * * *"}').replace('stable.example.com/v1', 'stable.example.com/v1beta1').replace('nightly', 'early');
    expect((await apply(older)).stdout).toContain('crontab.stable.example.com/early created');
    expect(await api.kubectl('get', 'ct', 'early', '-o', 'jsonpath={.apiVersion}')).toBe('stable.example.com/v1');
    const list = JSON.parse(await api.kubectl('get', '--raw', '/apis/stable.example.com/v1beta1/namespaces/default/crontabs'));
    expect(list.items.map((i: { apiVersion: string; metadata: { name: string } }) => `${i.metadata.name} ${i.apiVersion}`)).toEqual([
      'early stable.example.com/v1beta1',
      'nightly stable.example.com/v1beta1',
    ]);
    const group = JSON.parse(await api.kubectl('get', '--raw', '/apis/stable.example.com'));
    expect(group.preferredVersion.version).toBe('v1');
    expect(group.versions.map((v: { version: string }) => v.version)).toEqual(['v1', 'v1beta1']);
    await api.kubectl('delete', 'crontabs.v1beta1.stable.example.com', 'early');
  });

  it('refuses objects the schema does not allow, and stores nothing of them', async () => {
    const unknown = await apply(cronTab('{cronSpec: "0 3 * * *", colour: red}'));
    expect(unknown.stderr).toContain('strict decoding error: unknown field "spec.colour"');
    const invalid = await api.kubectlResult(
      ['create', '-f', '-'],
      cronTab('{replicas: 20, mode: medium, cronSpec: "every night"}').replace('nightly', 'broken'),
    );
    expect(invalid.stderr).toContain('The CronTab "broken" is invalid');
    for (const cause of [
      'spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10',
      'spec.mode: Unsupported value: "medium": supported values: "fast", "slow"',
      'spec.cronSpec: Invalid value: "every night"',
    ]) {
      expect(invalid.stderr).toContain(cause);
    }
    // a definition whose default its own schema refuses is itself refused, and the one stored stays
    const badDefault = await apply(definition.replace('default: slow', 'default: medium'));
    expect(badDefault.stderr).toContain('spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[mode].default: Unsupported value: "medium"');
    expect(
      await api.kubectl(
        'get',
        'crd',
        'crontabs.stable.example.com',
        '-o',
        'jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.mode.default}',
      ),
    ).toBe('slow');
    const tooOften = await api.kubectlResult(['create', '-f', '-'], cronTab('{cronSpec: "* * * * *"}').replace('nightly', 'often'));
    expect(tooOften.stderr).toContain('spec: Invalid value: "object": every minute is too often');
    const mistyped = await api.kubectlResult(['create', '-f', '-'], cronTab('{cronSpec: "0 3 * * *", replicas: three}').replace('nightly', 'mistyped'));
    expect(mistyped.stderr).toContain('spec.replicas: Invalid value: "three": spec.replicas in body must be of type integer: "string"');
    expect(await api.kubectl('get', 'ct', '-o', 'name')).toBe('crontab.stable.example.com/nightly\n');
  });

  it('serves the status and scale subresources', async () => {
    expect(await api.kubectl('scale', 'ct', 'nightly', '--replicas=3')).toContain('scaled');
    await api.kubectl('patch', 'ct', 'nightly', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":3}}');
    // a write to the main resource leaves status as it is
    await api.kubectl('patch', 'ct', 'nightly', '--type=merge', '-p', '{"status":{"replicas":9},"spec":{"image":"busybox:1"}}');
    expect(await api.kubectl('get', 'ct', 'nightly', '-o', 'jsonpath={.spec.replicas} {.status.replicas} {.spec.image}')).toBe('3 3 busybox:1');
  });

  it('refuses a strategic merge patch, which custom resources have no strategy for, with 415', async () => {
    const r = await api.kubectlResult(['patch', 'ct', 'nightly', '--type=strategic', '-p', '{"spec":{"image":"busybox:2"}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
    expect(await api.kubectl('get', 'ct', 'nightly', '-o', 'jsonpath={.spec.image}')).toBe('busybox:1');
  });

  it('fills in a default the definition gained after an object was stored, on every read', async () => {
    const withTimezone = definition.replace(
      'mode: {type: string, enum: [fast, slow], default: slow}',
      'mode: {type: string, enum: [fast, slow], default: slow}\n              timezone: {type: string, default: UTC}',
    );
    const widened = await apply(withTimezone);
    expect(widened.code, widened.stderr).toBe(0);
    await waitFor(
      'the new default on the stored object',
      async () => (await api.kubectl('get', 'ct', 'nightly', '-o', 'jsonpath={.spec.timezone}')) === 'UTC',
      10_000,
      200,
    );
    const list = JSON.parse(await api.kubectl('get', '--raw', '/apis/stable.example.com/v1beta1/namespaces/default/crontabs'));
    expect(list.items.map((i: { spec: { timezone?: string } }) => i.spec.timezone)).toEqual(['UTC']);
    // only presented: the stored object is as it was written
    expect((await apply(definition)).code).toBe(0);
    await waitFor('the default to go again', async () => (await api.kubectl('get', 'ct', 'nightly', '-o', 'jsonpath={.spec.timezone}')) === '', 10_000, 200);
  });

  it('takes the objects away with the definition, waiting for their finalizers', async () => {
    await api.kubectl('patch', 'ct', 'nightly', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}');
    await api.kubectl('delete', 'crd', 'crontabs.stable.example.com', '--wait=false');
    await api.kubectl('wait', '--for=condition=Terminating', 'crd/crontabs.stable.example.com', '--timeout=30s');
    // still served while a finalizer holds an object: its controller can finish, nobody can add more
    expect(await api.kubectl('get', 'ct', 'nightly', '-o', 'jsonpath={.metadata.deletionTimestamp}')).not.toBe('');
    const refused = await api.kubectlResult(['create', '-f', '-'], cronTab('{cronSpec: "0 4 * * *"}').replace('nightly', 'late'));
    expect(refused.stderr).toContain('create not allowed while custom resource definition is terminating');
    await api.kubectl('patch', 'ct', 'nightly', '--type=merge', '-p', '{"metadata":{"finalizers":null}}');
    await waitFor('the definition to go', async () => (await api.kubectlResult(['get', 'crd', 'crontabs.stable.example.com'])).code !== 0, 10_000, 200);
    await waitFor('the resource to leave discovery', async () => !(await api.kubectl('api-resources', '--no-headers')).includes('CronTab'), 10_000, 200);
    expect((await api.kubectlResult(['get', 'ct'])).stderr).toContain("doesn't have a resource type");
    // defined again, it starts empty
    expect((await apply(definition)).code).toBe(0);
    await api.kubectl('wait', '--for=condition=established', 'crd/crontabs.stable.example.com', '--timeout=30s');
    await waitFor('the resource to be served again', async () => (await api.kubectlResult(['get', 'crontabs', '-o', 'name'])).code === 0, 10_000, 200);
    expect(await api.kubectl('get', 'crontabs', '-o', 'name')).toBe('');
  });
});

describe('a definition shaped as real operators ship them', () => {
  it('serves an Argo CD-style resource whose schema requires metadata at the root, and holds int-or-string fields to their types', async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: applications.argoproj.example.com}
spec:
  group: argoproj.example.com
  names: {kind: Application, plural: applications, singular: application}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        required: [metadata, spec]
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            properties:
              project: {type: string}
              port: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
`;
    expect((await apply(crd)).code).toBe(0);
    await api.kubectl('wait', '--for=condition=established', 'crd/applications.argoproj.example.com', '--timeout=30s');
    const app = (port: string) =>
      `apiVersion: argoproj.example.com/v1alpha1\nkind: Application\nmetadata: {name: guestbook, namespace: default}\nspec: {project: default, port: ${port}}\n`;
    await waitFor('the new resource to be served', async () => (await apply(app('http'))).code === 0, 10_000, 200);
    expect(await api.kubectl('get', 'application', 'guestbook', '-o', 'jsonpath={.spec.port}')).toBe('http');
    const fractional = await apply(app('1.5'));
    expect(fractional.code).not.toBe(0);
    expect(fractional.stderr).toContain('spec.port in body must be of type integer,string: "number"');
  });
});
