import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { PodCgroups, podLimits, workingSet } from './cgroups.ts';
import { parseNetDev } from './container-samples.ts';

const pod = (resources: object | undefined): Pod =>
  ({ metadata: { uid: 'u1' }, spec: { containers: [{ name: 'c', ...(resources ? { resources } : {}) }] } }) as Pod;

describe('pod cgroups', () => {
  const cgroups = new PodCgroups({ root: '/', version: 1 });

  it('places pods by QoS class as the kubelet does', () => {
    expect(cgroups.parentOf(pod(undefined))).toBe('/kubepods/besteffort/podu1');
    expect(cgroups.parentOf(pod({ requests: { memory: '10Mi' } }))).toBe('/kubepods/burstable/podu1');
    expect(cgroups.parentOf(pod({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }))).toBe('/kubepods/podu1');
    expect(new PodCgroups({ root: 'skiff-test', version: 1 }).parentOf(pod(undefined))).toBe('/skiff-test/kubepods/besteffort/podu1');
  });

  it('places pods in slices with the systemd driver', () => {
    const systemd = new PodCgroups({ root: '/', version: 1, driver: 'systemd' });
    expect(systemd.parentOf(pod({ requests: { memory: '10Mi' } }))).toBe('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podu1.slice');
    expect(systemd.parentOf(pod({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }))).toBe('/kubepods.slice/kubepods-podu1.slice');
    expect(new PodCgroups({ root: 'skiff.slice', version: 1, driver: 'systemd' }).top).toBe('/skiff.slice/skiff-kubepods.slice');
  });

  it('limits memory only when every container has a limit, and weighs cpu by requests', () => {
    expect(podLimits(pod(undefined))).toEqual({ memoryLimit: undefined, cpuShares: 2 });
    expect(podLimits(pod({ requests: { cpu: '500m' }, limits: { memory: '64Mi' } }))).toEqual({ memoryLimit: 64 * 2 ** 20, cpuShares: 512 });
  });

  it('counts the working set without inactive file cache', () => {
    expect(workingSet(1000, 'cache 10\ntotal_inactive_file 300\n', 1)).toBe(700);
    expect(workingSet(1000, 'inactive_file 1200\n', 2)).toBe(0);
  });
});

describe('network counters of a pod', () => {
  it("reads each interface's received and sent bytes from /proc/<pid>/net/dev, the loopback left out", () => {
    const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     120       2    0    0    0     0          0         0      120       2    0    0    0     0       0          0
  eth0:    1403      17    0    0    0     0          0         0     1128      12    0    0    0     0       0          0
`;
    expect(parseNetDev(text)).toEqual([{ interface: 'eth0', rxBytes: 1403, txBytes: 1128 }]);
  });
});
