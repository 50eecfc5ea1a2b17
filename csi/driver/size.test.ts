import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { sizeFor } from './driver.ts';

const MiB = 1024 * 1024;

describe('volume size for a capacity range', () => {
  it('rounds the required bytes up to MiB, defaults to 1 GiB, and keeps to the filesystem minimum', () => {
    expect(sizeFor({ requiredBytes: 20 * MiB + 1 }, 'ext4')).toBe(21 * MiB);
    expect(sizeFor(undefined, 'ext4')).toBe(1024 * MiB);
    expect(sizeFor({ requiredBytes: MiB }, 'ext4')).toBe(16 * MiB);
    expect(sizeFor({ requiredBytes: MiB }, 'xfs')).toBe(300 * MiB);
    expect(sizeFor({ requiredBytes: MiB }, '')).toBe(MiB);
  });

  it('never goes above the limit, and refuses a range it cannot meet with OUT_OF_RANGE', () => {
    expect(sizeFor({ requiredBytes: 20 * MiB + 1, limitBytes: 20 * MiB + 5 }, 'ext4')).toBe(20 * MiB + 5);
    expect(sizeFor({ requiredBytes: 20 * MiB, limitBytes: 64 * MiB }, 'ext4')).toBe(20 * MiB);
    expect(() => sizeFor({ requiredBytes: 64 * MiB, limitBytes: 32 * MiB }, 'ext4')).toThrow(expect.objectContaining({ code: status.OUT_OF_RANGE }));
    expect(() => sizeFor({ limitBytes: 100 * MiB }, 'xfs')).toThrow(expect.objectContaining({ code: status.OUT_OF_RANGE }));
    expect(() => sizeFor({ requiredBytes: -1 }, 'ext4')).toThrow(expect.objectContaining({ code: status.OUT_OF_RANGE }));
  });
});
