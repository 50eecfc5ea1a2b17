import { describe, expect, it } from 'vitest';
import { CidrSet } from './node-ipam.ts';

describe('node CIDR allocation', () => {
  it('hands out the cluster CIDR in node-sized pieces, skipping taken ones and reusing released ones', () => {
    const set = new CidrSet('10.244.0.0/16', 24);
    set.occupy('10.244.1.0/24');
    set.occupy('192.168.0.0/24');
    expect([set.allocate(), set.allocate()]).toEqual(['10.244.0.0/24', '10.244.2.0/24']);
    set.release('10.244.0.0/24');
    const tiny = new CidrSet('10.0.0.0/30', 31);
    expect([tiny.allocate(), tiny.allocate(), tiny.allocate()]).toEqual(['10.0.0.0/31', '10.0.0.2/31', null]);
    tiny.release('10.0.0.0/31');
    expect(tiny.allocate()).toBe('10.0.0.0/31');
  });

  it('refuses a node mask shorter than the cluster prefix', () => {
    expect(() => new CidrSet('10.244.0.0/16', 8)).toThrow('cannot split 10.244.0.0/16 into /8 node ranges');
  });
});
