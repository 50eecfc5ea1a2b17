// Conformance tests of workload status writes and of the controllers that
// keep endpoints, in our words (titles are the upstream names).
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../lab/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

// controllers run (adoption is theirs); nothing schedules, so pods stay Pending, which adoption does not mind
const api = useTestApiServer('sk-apps-', ['--disable-scheduler', '--no-cluster-dns']);

/** Creates an object from its JSON form, as `kubectl create -f -` would from a file. */
const create = (obj: object) => api.kubectlResult(['create', '-f', '-'], JSON.stringify(obj));
const ownerOf = async (pod: string) => api.kubectl('get', 'pod', pod, '-o', 'jsonpath={.metadata.ownerReferences[?(@.controller==true)].name}');
const podsLabelled = async (selector: string) => (await api.kubectl('get', 'pods', '-l', selector, '-o', 'name')).split('\n').filter(Boolean);

describe('[sig-apps] ReplicaSet', () => {
  it('[sig-apps] ReplicaSet should adopt matching pods on creation and release no longer matching pods [Conformance]', async () => {
    await api.kubectl('run', 'pod-adoption-release', '--image=busybox', '--labels=name=pod-adoption-release', '--', 'sleep', '3600');
    await create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'pod-adoption-release' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { name: 'pod-adoption-release' } },
        template: { metadata: { labels: { name: 'pod-adoption-release' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await waitFor('the orphan adopted', async () => (await ownerOf('pod-adoption-release')) === 'pod-adoption-release', 30_000, 200);
    expect(await podsLabelled('name=pod-adoption-release')).toEqual(['pod/pod-adoption-release']);
    await api.kubectl('label', 'pod', 'pod-adoption-release', 'name=not-matching', '--overwrite');
    await waitFor('the pod released', async () => (await ownerOf('pod-adoption-release')) === '', 30_000, 200);
    await waitFor('a replacement made', async () => (await podsLabelled('name=pod-adoption-release')).length === 1, 30_000, 200);
  });
});

describe('[sig-apps] Job', () => {
  it('[sig-apps] Job should apply changes to a job status [Conformance]', async () => {
    await api.kubectl('create', 'job', 'status-job', '--image=busybox', '--', 'true');
    await api.kubectl(
      'patch',
      'job',
      'status-job',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ metadata: { annotations: { patchedstatus: 'true' } }, status: { startTime: '2026-01-01T00:00:00Z' } }),
    );
    expect(await api.kubectl('get', 'job', 'status-job', '-o', 'jsonpath={.metadata.annotations.patchedstatus} {.status.startTime}')).toBe(
      'true 2026-01-01T00:00:00Z',
    );
    // a status write never changes the spec
    await api.kubectl('patch', 'job', 'status-job', '--subresource=status', '--type=merge', '-p', '{"spec":{"parallelism":7}}');
    expect(await api.kubectl('get', 'job', 'status-job', '-o', 'jsonpath={.spec.parallelism}')).toBe('1');
  });
});

describe('[sig-apps] Job orphans', () => {
  it('[sig-apps] Job should adopt matching orphans and release non-matching pods [Conformance]', async () => {
    await create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'adopt-release' },
      spec: { parallelism: 2, completions: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    let pods: string[] = [];
    await waitFor('two job pods', async () => (pods = await podsLabelled('job-name=adopt-release')).length === 2, 30_000, 200);
    const first = (pods[0] as string).replace('pod/', '');
    // orphaned, it is adopted again
    await api.kubectl('patch', 'pod', first, '--type=json', '-p', '[{"op":"remove","path":"/metadata/ownerReferences"}]');
    await waitFor('the orphan adopted again', async () => (await ownerOf(first)) === 'adopt-release', 30_000, 200);
    // no longer selected, it is released
    await api.kubectl('label', 'pod', first, 'batch.kubernetes.io/controller-uid-', 'controller-uid-');
    await waitFor('the pod released', async () => (await ownerOf(first)) === '', 30_000, 200);
  });
});

describe('[sig-apps] CronJob', () => {
  it('[sig-apps] CronJob should support CronJob API operations [Conformance] (status)', async () => {
    // suspended, so the controller writes no status of its own meanwhile
    await create({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'status-cron' },
      spec: {
        schedule: '*/1 * * * *',
        suspend: true,
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
      },
    });
    await api.kubectl(
      'patch',
      'cronjob',
      'status-cron',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"lastScheduleTime":"2026-01-01T00:00:00Z"}}',
    );
    expect(await api.kubectl('get', 'cronjob', 'status-cron', '-o', 'jsonpath={.status.lastScheduleTime}')).toBe('2026-01-01T00:00:00Z');
  });
});

describe('[sig-network] EndpointSliceMirroring', () => {
  it('[sig-network] EndpointSliceMirroring should mirror a custom Endpoints resource through create update and delete [Conformance]', async () => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'example-custom-endpoints' },
      spec: { ports: [{ name: 'example', port: 80, protocol: 'TCP' }] },
    };
    expect((await create(service)).code).toBe(0);
    const endpoints = (ip: string) => ({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'example-custom-endpoints', labels: { team: 'blue' } },
      subsets: [{ addresses: [{ ip }], notReadyAddresses: [{ ip: '10.9.9.9' }], ports: [{ name: 'example', port: 9000, protocol: 'TCP' }] }],
    });
    expect((await create(endpoints('10.1.2.3'))).code).toBe(0);
    const mirrored = async () =>
      JSON.parse(await api.kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=example-custom-endpoints', '-o', 'json')) as {
        items: {
          metadata: { labels: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
          addressType: string;
          endpoints?: { addresses: string[]; conditions: { ready: boolean } }[];
          ports?: { name?: string; port: number }[];
        }[];
      };
    const addresses = async () =>
      (await mirrored()).items.flatMap((s) => (s.endpoints ?? []).map((e) => `${e.addresses[0]}:${s.ports?.[0]?.port}:${e.conditions.ready}`)).sort();
    await expect.poll(addresses, { timeout: 20_000 }).toEqual(['10.1.2.3:9000:true', '10.9.9.9:9000:false']);
    const [slice] = (await mirrored()).items;
    expect(slice?.metadata.labels).toMatchObject({ team: 'blue', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
    expect(slice?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Endpoints', name: 'example-custom-endpoints' });
    // an update follows
    await api.kubectl('patch', 'endpoints', 'example-custom-endpoints', '--type=merge', '-p', JSON.stringify({ subsets: endpoints('10.2.3.4').subsets }));
    await expect.poll(addresses, { timeout: 20_000 }).toEqual(['10.2.3.4:9000:true', '10.9.9.9:9000:false']);
    // and a deletion takes the slices
    await api.kubectl('delete', 'endpoints', 'example-custom-endpoints');
    await expect.poll(async () => (await mirrored()).items.length, { timeout: 20_000 }).toBe(0);
  });

  it('leaves the Endpoints of a Service with a selector to the endpointslice controller', async () => {
    await api.kubectl('create', 'service', 'clusterip', 'selected', '--tcp=80:8080');
    await create({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'selected' },
      subsets: [{ addresses: [{ ip: '10.3.3.3' }], ports: [{ port: 8080 }] }],
    });
    // the endpointslice controller's placeholder slice comes; no mirrored one does
    await expect.poll(() => api.kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=selected', '-o', 'name'), { timeout: 20_000 }).not.toBe('');
    await new Promise((r) => setTimeout(r, 1000));
    expect(
      await api.kubectl(
        'get',
        'endpointslices',
        '-l',
        'endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io,kubernetes.io/service-name=selected',
        '-o',
        'name',
      ),
    ).toBe('');
  });
});
