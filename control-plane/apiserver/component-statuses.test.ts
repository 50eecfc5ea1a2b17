import { describe, expect, it } from 'vitest';
import { componentStatuses } from './component-statuses.ts';
import type { Registry } from './registry.ts';

/** Leases in kube-system, renewed `agoS` seconds ago with the given duration. */
function leases(held: Record<string, { agoS: number; durationS?: number }>): Registry {
  return {
    get: async (_ns: string, name: string) => {
      const l = held[name];
      if (!l) throw new Error(`leases.coordination.k8s.io "${name}" not found`);
      return { metadata: { name }, spec: { renewTime: new Date(Date.now() - l.agoS * 1000).toISOString(), leaseDurationSeconds: l.durationS } };
    },
    list: async () => ({ items: [] }),
  } as unknown as Registry;
}

const health = async (r: Registry) =>
  Object.fromEntries((await componentStatuses(r)).map((s) => [s.metadata.name, (s as unknown as { conditions: { status: string }[] }).conditions[0]?.status]));

describe('componentStatuses', () => {
  it('holds a leader healthy while its lease is within the duration the lease itself gives', async () => {
    expect(await health(leases({ 'kube-controller-manager': { agoS: 2, durationS: 12 }, 'kube-scheduler': { agoS: 20, durationS: 30 } }))).toEqual({
      'controller-manager': 'True',
      scheduler: 'True',
      'etcd-0': 'True',
    });
  });

  it('holds a leader unhealthy once its lease has run out, or when there is none', async () => {
    expect(await health(leases({ 'kube-controller-manager': { agoS: 20, durationS: 12 } }))).toEqual({
      'controller-manager': 'False',
      scheduler: 'False',
      'etcd-0': 'True',
    });
  });
});
