import { describe, expect, it } from 'vitest';
import { ApiError } from '../../apimachinery/index.ts';
import { SqliteStorage } from '../storage/index.ts';
import { resourceCatalog } from './catalog.ts';
import { evictPod } from './eviction.ts';
import { Registry } from './registry.ts';
import type { Obj } from './resource-info.ts';
import { NodePortRange, ServiceIpRange } from './resources/services.ts';
import { getScale, updateScale } from './scale.ts';

function cluster() {
  const storage = new SqliteStorage(':memory:');
  const regs = new Map(
    resourceCatalog(new ServiceIpRange('10.96.0.0/12'), new NodePortRange()).map((info) => [`${info.group}/${info.resource}`, new Registry(info, storage)]),
  );
  return (key: string) => regs.get(key) as Registry;
}

const template = (labels: Record<string, string>, restartPolicy?: string) => ({
  metadata: { labels },
  spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'c', image: 'busybox' }] },
});

async function invalid(p: Promise<unknown>): Promise<string[]> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe(422);
  return ((err as ApiError).details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
}

describe('built-in resources', () => {
  it('defaults a Deployment as kube-apiserver does and rejects a selector that misses the template', async () => {
    const deployments = cluster()('apps/deployments');
    const d = await deployments.create('default', {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) },
    });
    expect(d.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    });
    expect((d.spec as { template: { spec: { dnsPolicy: string } } }).template.spec.dnsPolicy).toBe('ClusterFirst');
    const causes = await invalid(
      deployments.create('default', {
        metadata: { name: 'bad' },
        spec: { replicas: -1, selector: { matchLabels: { app: 'x' } }, template: template({ app: 'web' }) },
      }),
    );
    expect(causes).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    ]);
  });

  it('keeps a Deployment selector immutable and bumps generation on spec changes only', async () => {
    const deployments = cluster()('apps/deployments');
    const d = await deployments.create('default', {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) },
    });
    const labelled = await deployments.guaranteedUpdate('default', 'web', (o) => ({ ...o, metadata: { ...o.metadata, labels: { tier: 'x' } } }));
    expect(labelled.metadata.generation).toBe(1);
    const causes = await invalid(
      deployments.guaranteedUpdate('default', 'web', (o) => {
        (o.spec as { selector: object }).selector = { matchLabels: { app: 'other' } };
        (o.spec as { template: { metadata: object } }).template.metadata = { labels: { app: 'other' } };
        return o;
      }),
    );
    expect(causes).toContain('spec.selector: Invalid value: {"matchLabels":{"app":"other"}}: field is immutable');
    expect(d.metadata.uid).toBe(labelled.metadata.uid);
  });

  it('serves scale for workloads: reads replicas and selector, writes spec.replicas', async () => {
    const rs = cluster()('apps/replicasets');
    await rs.create('default', {
      metadata: { name: 'web' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) },
    });
    expect(await getScale(rs, 'default', 'web')).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 2 },
      status: { replicas: 0, selector: 'app=web' },
    });
    const scaled = await updateScale(rs, 'default', 'web', (s) => ({ ...s, spec: { replicas: 5 } }));
    expect(scaled.spec.replicas).toBe(5);
    expect(((await rs.get('default', 'web')).spec as { replicas: number }).replicas).toBe(5);
    expect(await invalid(updateScale(rs, 'default', 'web', (s) => ({ ...s, spec: { replicas: -3 } })))).toEqual([
      'spec.replicas: Invalid value: -3: must be greater than or equal to 0',
    ]);
  });

  it('gives Jobs their controller-uid selector and pod labels, and refuses restartPolicy Always', async () => {
    const jobs = cluster()('batch/jobs');
    const job = await jobs.create('default', { metadata: { name: 'pi' }, spec: { template: template({}, 'Never') } });
    const uid = job.metadata.uid as string;
    expect(job.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
    });
    expect((job.spec as { template: { metadata: { labels: object } } }).template.metadata.labels).toMatchObject({
      'job-name': 'pi',
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': uid,
    });
    expect(await invalid(jobs.create('default', { metadata: { name: 'bad' }, spec: { template: template({}) } }))).toEqual([
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
  });

  it('rejects a CronJob with a schedule cron cannot read or an unknown time zone', async () => {
    const cronjobs = cluster()('batch/cronjobs');
    const spec = (schedule: string, timeZone?: string) => ({
      schedule,
      ...(timeZone ? { timeZone } : {}),
      jobTemplate: { spec: { template: template({}, 'OnFailure') } },
    });
    expect((await cronjobs.create('default', { metadata: { name: 'ok' }, spec: spec('*/5 * * * *', 'Europe/Paris') })).spec).toMatchObject({
      concurrencyPolicy: 'Allow',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    });
    const causes = await invalid(cronjobs.create('default', { metadata: { name: 'bad' }, spec: spec('61 * * * *', 'Mars/Olympus') }));
    expect(causes.map((c) => c.split(':')[0])).toEqual(['spec.schedule', 'spec.timeZone']);
    expect(await invalid(cronjobs.create('default', { metadata: { name: 'tz' }, spec: spec('TZ=UTC 0 * * * *') }))).toEqual([
      'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    ]);
  });

  it('folds Secret stringData into base64 data and refuses bad base64', async () => {
    const secrets = cluster()('/secrets');
    const s = await secrets.create('default', { metadata: { name: 's' }, stringData: { password: 'hunter2' } });
    expect(s).toMatchObject({ type: 'Opaque', data: { password: Buffer.from('hunter2').toString('base64') } });
    expect(s.stringData).toBeUndefined();
    expect(await invalid(secrets.create('default', { metadata: { name: 'b' }, data: { k: 'not base64!' } }))).toEqual([
      'data[k]: Invalid value: "<secret contents redacted>": illegal base64 data',
    ]);
  });

  it('serves core Events as events.k8s.io/v1 Events and back', async () => {
    const get = cluster();
    await get('/events').create('default', {
      metadata: { name: 'e1' },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
      reason: 'Started',
      message: 'Started container c',
      type: 'Normal',
      count: 2,
    });
    const [v1] = (await get('events.k8s.io/events').list({ namespace: 'default' })).items;
    expect(v1).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      regarding: { kind: 'Pod', name: 'web' },
      note: 'Started container c',
      deprecatedCount: 2,
      reason: 'Started',
    });
    await get('events.k8s.io/events').create('default', {
      metadata: { name: 'e2' },
      eventTime: '2026-11-21T10:00:00.000000Z',
      reportingController: 'skiff',
      reportingInstance: 'n1',
      action: 'Pull',
      reason: 'Pulled',
      regarding: { kind: 'Pod', name: 'web' },
      note: 'done',
      type: 'Normal',
    });
    expect(await get('/events').get('default', 'e2')).toMatchObject({
      apiVersion: 'v1',
      involvedObject: { name: 'web' },
      message: 'done',
      reportingComponent: 'skiff',
    });
  });

  it('evicts through a PodDisruptionBudget only while it allows disruptions', async () => {
    const get = cluster();
    const pods = get('/pods');
    const budgets = get('policy/poddisruptionbudgets');
    for (const name of ['a', 'b']) {
      await pods.create('default', { metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
      await pods.guaranteedUpdate('default', name, (p) => ({ ...p, status: { ...p.status, phase: 'Running' } }), { subresource: 'status' });
    }
    await budgets.create('default', { metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } });
    await budgets.guaranteedUpdate(
      'default',
      'web',
      (b: Obj) => ({ ...b, status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 } }),
      { subresource: 'status' },
    );
    await evictPod(pods, budgets, 'default', 'a', {}, false);
    await expect(pods.get('default', 'a')).rejects.toMatchObject({ code: 404 });
    const refused = await evictPod(pods, budgets, 'default', 'b', {}, false).catch((e: ApiError) => e);
    expect(refused).toMatchObject({ code: 429, details: { causes: [{ reason: 'DisruptionBudget' }] } });
    expect((await pods.get('default', 'b')).metadata.deletionTimestamp).toBeUndefined();
    expect((await budgets.get('default', 'web')).status).toMatchObject({ disruptionsAllowed: 0, disruptedPods: { a: expect.any(String) } });
  });
});
