// Conformance tests of ResourceQuota scopes, in our words (titles are the
// upstream names): a scoped quota counts only the pods its scopes select,
// in status.used and at admission.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../lab/index.ts';
import { useTestApiServer } from '../harness/api-server.ts';

const api = useTestApiServer('sk-quota-', ['--disable-scheduler', '--no-cluster-dns']);

const used = (quota: string) => api.kubectl('get', 'resourcequota', quota, '-o', 'jsonpath={.status.used.pods}');
const createPod = (name: string, resources: object) =>
  api.kubectlResult(
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', resources }] } }),
  );

describe('[sig-api-machinery] ResourceQuota', () => {
  it('[sig-api-machinery] ResourceQuota should verify ResourceQuota with best effort scope. [Conformance]', async () => {
    for (const [name, scope] of [
      ['quota-besteffort', 'BestEffort'],
      ['quota-not-besteffort', 'NotBestEffort'],
    ]) {
      const r = await api.kubectlResult(
        ['create', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard: { pods: '1' }, scopes: [scope] } }),
      );
      expect(r.code, r.stderr).toBe(0);
    }
    await waitFor('both quotas counted', async () => (await used('quota-besteffort')) === '0' && (await used('quota-not-besteffort')) === '0', 30_000, 200);
    expect((await createPod('best-effort', {})).code).toBe(0);
    await waitFor('the best-effort pod counted by its quota only', async () => (await used('quota-besteffort')) === '1', 30_000, 200);
    expect(await used('quota-not-besteffort')).toBe('0');
    // the best-effort quota is full; a burstable pod is not its business
    expect((await createPod('another-best-effort', {})).stderr).toContain('exceeded quota: quota-besteffort, requested: pods=1, used: pods=1, limited: pods=1');
    expect((await createPod('burstable', { requests: { cpu: '100m' }, limits: { cpu: '200m' } })).code).toBe(0);
    await waitFor('the burstable pod counted by the other quota', async () => (await used('quota-not-besteffort')) === '1', 30_000, 200);
    expect(await used('quota-besteffort')).toBe('1');
  });
});
