import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { describe, expect, it } from 'vitest';
import { defaultClass } from './storage-admission.ts';

const cls = (name: string, created: string, isDefault: boolean): StorageClass => ({
  metadata: { name, creationTimestamp: created, annotations: isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {} },
  provisioner: 'csi.skiff.dev',
});

describe('the default StorageClass', () => {
  it('is the one marked default; of several, the newest', () => {
    expect(defaultClass([cls('a', '2026-01-01T00:00:00Z', false)])).toBeUndefined();
    expect(defaultClass([cls('a', '2026-01-01T00:00:00Z', true), cls('b', '2026-01-02T00:00:00Z', false)])?.metadata?.name).toBe('a');
    expect(defaultClass([cls('old', '2026-01-01T00:00:00Z', true), cls('new', '2026-02-01T00:00:00Z', true)])?.metadata?.name).toBe('new');
  });
});
