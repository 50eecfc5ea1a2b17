import { describe, expect, it } from 'vitest';
import { ApiError } from '../../apimachinery/index.ts';
import type { Registry } from './registry.ts';
import type { Obj } from './resource-info.ts';
import { SERVICE_ACCOUNT_MOUNT_PATH, admitServiceAccount } from './service-account-admission.ts';

const accounts = (items: Record<string, object>) =>
  ({
    get: async (_ns: string, name: string) => {
      const sa = items[name];
      if (!sa) throw new ApiError('NotFound', `serviceaccounts "${name}" not found`);
      return sa;
    },
  }) as unknown as Registry;

const pod = (spec: object): Obj =>
  ({
    metadata: { name: 'p' },
    spec: {
      containers: [
        { name: 'a', image: 'x' },
        { name: 'b', image: 'x', volumeMounts: [{ name: 'own', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] },
      ],
      ...spec,
    },
  }) as unknown as Obj;

describe('the ServiceAccount admission plugin', () => {
  it('runs the pod as default and mounts the API access volume where nothing is mounted yet', async () => {
    const p = pod({});
    await admitServiceAccount(accounts({ default: {} }), 'ns', p);
    const spec = p.spec as {
      serviceAccountName: string;
      serviceAccount: string;
      volumes: Array<{ name: string; projected: { sources: object[] } }>;
      containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
    };
    expect(spec.serviceAccountName).toBe('default');
    expect(spec.serviceAccount).toBe('default');
    expect(spec.volumes[0]?.name).toMatch(/^kube-api-access-[0-9a-f]{5}$/);
    expect(spec.volumes[0]?.projected.sources).toHaveLength(3);
    expect(spec.containers[0]?.volumeMounts).toEqual([{ name: spec.volumes[0]?.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
    expect(spec.containers[1]?.volumeMounts).toEqual([{ name: 'own', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
  });

  it('mounts nothing when the pod or its service account turns automounting off', async () => {
    const off = pod({ automountServiceAccountToken: false });
    await admitServiceAccount(accounts({ default: {} }), 'ns', off);
    expect((off.spec as { volumes?: unknown }).volumes).toBeUndefined();
    const bySa = pod({ serviceAccountName: 'quiet' });
    await admitServiceAccount(accounts({ quiet: { automountServiceAccountToken: false } }), 'ns', bySa);
    expect((bySa.spec as { volumes?: unknown }).volumes).toBeUndefined();
    // the pod's own setting wins over its account's
    const on = pod({ serviceAccountName: 'quiet', automountServiceAccountToken: true });
    await admitServiceAccount(accounts({ quiet: { automountServiceAccountToken: false } }), 'ns', on);
    expect((on.spec as { volumes: unknown[] }).volumes).toHaveLength(1);
  });
});
