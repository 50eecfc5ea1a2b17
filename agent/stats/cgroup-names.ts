/** How pod cgroups are made and named: directories we make, or slices systemd makes. */
export type CgroupDriver = 'cgroupfs' | 'systemd';

/**
 * The components of the configured cgroup root, as the kubelet reads
 * --cgroup-root: a path for cgroupfs ("/a/b"), a slice for systemd
 * ("a-b.slice": each dash a level down, an underscore a dash in a name).
 */
export function rootComponents(root: string, driver: CgroupDriver): string[] {
  if (driver === 'cgroupfs') return root.split('/').filter(Boolean);
  const slice =
    root
      .split('/')
      .filter(Boolean)
      .pop()
      ?.replace(/\.slice$/, '') ?? '';
  return slice === '' ? [] : slice.split('-').map((part) => part.replaceAll('_', '-'));
}

/**
 * A cgroup's path below a hierarchy's root. cgroupfs: the components as
 * directories. systemd: the slice named by the components joined with dashes
 * (dashes inside a component escaped as underscores), expanded into the
 * directories systemd nests it in: [kubepods, burstable, pod1-2] is
 * /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice.
 */
export function cgroupPath(components: string[], driver: CgroupDriver): string {
  if (driver === 'cgroupfs') return `/${components.join('/')}`;
  const escaped = components.map((c) => c.replaceAll('-', '_'));
  return `/${escaped.map((_, i) => `${escaped.slice(0, i + 1).join('-')}.slice`).join('/')}`;
}

/** The slice unit a systemd cgroup path ends in. */
export function sliceName(path: string): string {
  return path.split('/').pop() ?? '';
}

/**
 * The runtime id of the container (or sandbox) a cgroup directory below a pod
 * belongs to: the directory itself with cgroupfs, a scope with systemd
 * (containerd's cri-containerd-<id>.scope, CRI-O's crio-<id>.scope).
 */
export function containerIdOf(dir: string): string {
  const scope = /^(?:cri-containerd|crio)-([0-9a-f]+)\.scope$/.exec(dir);
  return scope ? scope[1]! : dir;
}
