import { describe, expect, it } from 'vitest';
import { countedResources, formatUsage, inQuotaScope, limitOf, usageOf } from './usage.ts';

const pod = (cpu?: string, memory?: string, phase = 'Running') => ({
  resource: 'pods',
  obj: { spec: { containers: [{ name: 'c', resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } } }] }, status: { phase } },
});

describe('quota usage', () => {
  it('counts objects and sums requests, leaving finished pods out', () => {
    expect(usageOf('pods', pod())).toBe(1);
    expect(usageOf('count/pods', pod())).toBe(1);
    expect(usageOf('requests.cpu', pod('250m'))).toBe(250);
    expect(usageOf('requests.memory', pod(undefined, '64Mi'))).toBe(64 * 2 ** 20);
    expect(usageOf('pods', pod('1', undefined, 'Succeeded'))).toBe(0);
    expect(usageOf('services.nodeports', { resource: 'services', obj: { spec: { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] } } })).toBe(2);
    expect(usageOf('count/deployments.apps', { resource: 'deployments.apps', obj: {} })).toBe(1);
    expect(usageOf('configmaps', { resource: 'secrets', obj: {} })).toBe(0);
  });

  it('reads limits and writes usage in quantity form', () => {
    expect(limitOf('requests.cpu', '1500m')).toBe(1500);
    expect(limitOf('limits.memory', '1Gi')).toBe(2 ** 30);
    expect(formatUsage('requests.cpu', 2000)).toBe('2');
    expect(formatUsage('requests.cpu', 250)).toBe('250m');
    expect(formatUsage('requests.memory', 192 * 2 ** 20)).toBe('192Mi');
    expect(formatUsage('pods', 3)).toBe('3');
    expect([...countedResources({ pods: '10', 'requests.storage': '1Gi', 'count/jobs.batch': '2' })].sort()).toEqual([
      'jobs.batch',
      'persistentvolumeclaims',
      'pods',
    ]);
  });
});

describe('quota scopes', () => {
  const pod = (spec: Record<string, unknown>) => ({ resource: 'pods', obj: { spec: { containers: [{ name: 'c' }], ...spec } } });
  const burstable = pod({ containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }] });

  it('counts only the pods every scope selects, and nothing but pods once a quota is scoped', () => {
    expect(inQuotaScope({}, { resource: 'configmaps', obj: {} })).toBe(true);
    expect(inQuotaScope({ scopes: ['BestEffort'] }, { resource: 'configmaps', obj: {} })).toBe(false);
    expect(inQuotaScope({ scopes: ['BestEffort'] }, pod({}))).toBe(true);
    expect(inQuotaScope({ scopes: ['BestEffort'] }, burstable)).toBe(false);
    expect(inQuotaScope({ scopes: ['NotBestEffort'] }, burstable)).toBe(true);
    expect(inQuotaScope({ scopes: ['Terminating'] }, pod({ activeDeadlineSeconds: 30 }))).toBe(true);
    expect(inQuotaScope({ scopes: ['NotTerminating', 'BestEffort'] }, pod({ activeDeadlineSeconds: 30 }))).toBe(false);
    const byPriority = { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } };
    expect(inQuotaScope(byPriority, pod({ priorityClassName: 'high' }))).toBe(true);
    expect(inQuotaScope(byPriority, pod({ priorityClassName: 'low' }))).toBe(false);
    const crossNamespace = { scopes: ['CrossNamespacePodAffinity'] };
    const term = (extra: object) => ({ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname', ...extra });
    expect(
      inQuotaScope(crossNamespace, pod({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ namespaces: ['other'] })] } } })),
    ).toBe(true);
    expect(
      inQuotaScope(
        crossNamespace,
        pod({
          affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: term({ namespaceSelector: {} }) }] } },
        }),
      ),
    ).toBe(true);
    expect(inQuotaScope(crossNamespace, pod({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({})] } } }))).toBe(false);
    expect(inQuotaScope(crossNamespace, pod({}))).toBe(false);
  });
});
