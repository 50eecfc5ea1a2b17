import { describe, expect, it } from 'vitest';
import { cgroupPath, containerIdOf, rootComponents, sliceName } from './cgroup-names.ts';

describe('cgroup names', () => {
  it('reads the cgroup root as a path for cgroupfs and as a slice for systemd', () => {
    expect(rootComponents('/', 'cgroupfs')).toEqual([]);
    expect(rootComponents('/skiff-test/nodes', 'cgroupfs')).toEqual(['skiff-test', 'nodes']);
    expect(rootComponents('/', 'systemd')).toEqual([]);
    expect(rootComponents('skiff.slice', 'systemd')).toEqual(['skiff']);
    // each dash a level down, an underscore a dash inside a name
    expect(rootComponents('/a.slice/a-lab_node1.slice', 'systemd')).toEqual(['a', 'lab-node1']);
  });

  it('expands a systemd name into the slices it nests in, as the kubelet does', () => {
    expect(cgroupPath(['kubepods', 'burstable', 'pod1234-abcd'], 'systemd')).toBe(
      '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_abcd.slice',
    );
    expect(cgroupPath(['kubepods', 'pod1'], 'systemd')).toBe('/kubepods.slice/kubepods-pod1.slice');
    expect(cgroupPath(['kubepods', 'besteffort', 'pod1'], 'cgroupfs')).toBe('/kubepods/besteffort/pod1');
    expect(sliceName('/kubepods.slice/kubepods-pod1.slice')).toBe('kubepods-pod1.slice');
  });

  it('finds the runtime id in a container cgroup of either driver', () => {
    const id = 'ab12'.repeat(16);
    expect(containerIdOf(id)).toBe(id);
    expect(containerIdOf(`cri-containerd-${id}.scope`)).toBe(id);
    expect(containerIdOf(`crio-${id}.scope`)).toBe(id);
    // CRI-O's conmon scope is no container
    expect(containerIdOf(`crio-conmon-${id}.scope`)).toBe(`crio-conmon-${id}.scope`);
  });
});
