import { describe, expect, it } from 'vitest';
import type { Obj } from '../resource-info.ts';
import { podStrategy } from './pods.ts';

const pod = (ephemeralContainers: object[] = []): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'busybox' }], ephemeralContainers },
});

const causesOf = (next: object[], before: object[] = []) =>
  (podStrategy.validateEphemeralContainers?.(pod(next), pod(before)) ?? []).map((c) => `${c.field}: ${c.message}`);

describe('pods/ephemeralcontainers validation', () => {
  it('takes a new ephemeral container beside the ones the pod has', () => {
    const old = [{ name: 'debugger', image: 'busybox' }];
    expect(causesOf([...old, { name: 'peeker', image: 'busybox', targetContainerName: 'app' }], old)).toEqual([]);
  });

  it("checks a new one as the pod's own containers are checked, and refuses what an ephemeral container may not have", () => {
    const causes = causesOf([
      { name: 'app', image: 'busybox' },
      { name: 'Bad_Name', image: '' },
      { name: 'net', image: 'busybox', ports: [{ containerPort: 80 }] },
    ]);
    expect(causes).toContain('spec.ephemeralContainers[0].name: Duplicate value: "app"');
    expect(causes.some((c) => c.startsWith('spec.ephemeralContainers[1].name: Invalid value: "Bad_Name"'))).toBe(true);
    expect(causes).toContain('spec.ephemeralContainers[1].image: Required value');
    expect(causes).toContain('spec.ephemeralContainers[2].ports: Forbidden: cannot be set for an Ephemeral Container');
  });

  it('refuses a change to one the pod has', () => {
    expect(causesOf([{ name: 'debugger', image: 'debian' }], [{ name: 'debugger', image: 'busybox' }])).toEqual([
      'spec.ephemeralContainers: Forbidden: existing ephemeral containers may not be changed',
    ]);
  });
});
