// Conformance tests of workload status writes, in our words (titles are the
// upstream names).
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
