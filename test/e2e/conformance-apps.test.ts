// Conformance tests of workload status writes, in our words (titles are the
// upstream names).
import { describe, expect, it } from 'vitest';
import { useTestApiServer } from '../harness/api-server.ts';

const api = useTestApiServer('sk-apps-', ['--disable-scheduler', '--disable-controllers', '--no-cluster-dns']);

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

describe('[sig-apps] CronJob', () => {
  it('[sig-apps] CronJob should support CronJob API operations [Conformance] (status)', async () => {
    await api.kubectl('create', 'cronjob', 'status-cron', '--image=busybox', '--schedule=*/1 * * * *', '--', 'true');
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
