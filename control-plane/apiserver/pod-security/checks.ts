import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { podContainers } from '../../../apimachinery/index.ts';

// The Pod Security Standards' checks, each with the level it belongs to and
// the first policy version it applies from; a failed check names a reason and
// a detail, worded as the pod-security-admission library words them.

export type Level = 'privileged' | 'baseline' | 'restricted';

export interface Violation {
  reason: string;
  detail: string;
}

export interface Check {
  id: string;
  level: Exclude<Level, 'privileged'>;
  /** versions as minor numbers of 1.x: the check body in force from each, newest last */
  versions: { from: number; check: (meta: ObjectMeta, spec: PodSpec) => Violation | undefined }[];
  /** at restricted, these baseline checks are covered by this one and not reported twice */
  overrides?: string[];
}

const quote = (xs: Iterable<string>) => [...xs].map((x) => JSON.stringify(x)).join(', ');
const plural = (one: string, many: string, n: number) => (n === 1 ? one : many);
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
/** `container "a"` / `containers "a", "b"` */
const named = (names: string[]) => `${plural('container', 'containers', names.length)} ${quote(names)}`;
/** a pod in its own user namespace (hostUsers: false) is held to less where root inside is no root outside */
const userNamespaced = (spec: PodSpec) => spec.hostUsers === false;

/** Containers for which `bad` holds, as a detail `containers "a", "b" <what>`, or undefined. */
function badContainers(spec: PodSpec, bad: (c: Container) => boolean, reason: string, what: string): Violation | undefined {
  const names = podContainers(spec)
    .filter(bad)
    .map((c) => c.name);
  return names.length ? { reason, detail: `${named(names)} ${what}` } : undefined;
}

/**
 * A setting the pod may set for all its containers and each container for
 * itself: who set a bad value explicitly, else which containers are left
 * without a good one when `required` (restricted's runAsNonRoot, seccomp).
 */
function podOrContainers<T>(
  spec: PodSpec,
  o: { pod: T | undefined; of: (c: Container) => T | undefined; good: (v: T) => boolean; required: boolean },
): { badSetters: string[]; badValues: T[]; unset: string[] } {
  const badSetters: string[] = [];
  const badValues: T[] = [];
  let podGood = false;
  if (o.pod !== undefined && o.pod !== null) {
    if (o.good(o.pod)) podGood = true;
    else {
      badSetters.push('pod');
      badValues.push(o.pod);
    }
  }
  const explicit: string[] = [];
  const unset: string[] = [];
  for (const c of podContainers(spec)) {
    const v = o.of(c);
    if (v !== undefined && v !== null) {
      if (!o.good(v)) {
        explicit.push(c.name);
        badValues.push(v);
      }
    } else if (o.required && !podGood) unset.push(c.name);
  }
  if (explicit.length) badSetters.push(named(explicit));
  return { badSetters, badValues, unset };
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const RESTRICTED_VOLUME_KINDS = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
/** the safe sysctls by the version that allowed them */
const SAFE_SYSCTLS: [number, string[]][] = [
  [
    0,
    ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start'],
  ],
  [27, ['net.ipv4.ip_local_reserved_ports']],
  [29, ['net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']],
  [32, ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']],
];
const SELINUX_TYPES: [number, string[]][] = [
  [0, ['', 'container_t', 'container_init_t', 'container_kvm_t']],
  [31, ['container_engine_t']],
];
const allowedFrom = (table: [number, string[]][], version: number) => new Set(table.filter(([from]) => from <= version).flatMap(([, xs]) => xs));
const goodSeccomp = (type: string) => type === 'RuntimeDefault' || type === 'Localhost';

function sysctls(version: number) {
  const allowed = allowedFrom(SAFE_SYSCTLS, version);
  return (_m: ObjectMeta, spec: PodSpec): Violation | undefined => {
    const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !allowed.has(n));
    return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
  };
}

function seLinuxOptions(version: number) {
  const allowed = allowedFrom(SELINUX_TYPES, version);
  return (_m: ObjectMeta, spec: PodSpec): Violation | undefined => {
    const types = new Set<string>();
    let user = false;
    let role = false;
    const good = (o: { type?: string; user?: string; role?: string }) => {
      let ok = true;
      if (!allowed.has(o.type ?? '')) {
        ok = false;
        types.add(o.type ?? '');
      }
      if (o.user) [ok, user] = [false, true];
      if (o.role) [ok, role] = [false, true];
      return ok;
    };
    const { badSetters } = podOrContainers(spec, {
      pod: spec.securityContext?.seLinuxOptions,
      of: (c) => c.securityContext?.seLinuxOptions,
      good,
      required: false,
    });
    if (!badSetters.length) return undefined;
    const data: string[] = [];
    if (types.size) data.push(`${plural('type', 'types', types.size)} ${quote(sorted(types))}`);
    if (user) data.push('user may not be set');
    if (role) data.push('role may not be set');
    return { reason: 'seLinuxOptions', detail: `${badSetters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}` };
  };
}

function seccompBaseline(_m: ObjectMeta, spec: PodSpec): Violation | undefined {
  const r = podOrContainers(spec, {
    pod: spec.securityContext?.seccompProfile?.type,
    of: (c) => c.securityContext?.seccompProfile?.type,
    good: goodSeccomp,
    required: false,
  });
  if (!r.badSetters.length) return undefined;
  return {
    reason: 'seccompProfile',
    detail: `${r.badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${quote(sorted(r.badValues))}`,
  };
}

export const CHECKS: Check[] = [
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    versions: [
      {
        from: 8,
        check: (_m, spec) =>
          badContainers(
            spec,
            (c) => c.securityContext?.allowPrivilegeEscalation !== false,
            'allowPrivilegeEscalation != false',
            'must set securityContext.allowPrivilegeEscalation=false',
          ),
      },
    ],
  },
  {
    id: 'appArmorProfile',
    level: 'baseline',
    versions: [
      {
        from: 0,
        check: (meta, spec) => {
          const bad: string[] = [];
          const allowedProfile = (p: string) => p === '' || p === 'runtime/default' || p.startsWith('localhost/');
          for (const [k, v] of Object.entries(meta.annotations ?? {}))
            if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && !allowedProfile(v)) bad.push(`${k}=${JSON.stringify(v)}`);
          const fieldBad = (t: string | undefined) => t === 'Unconfined';
          if (fieldBad(spec.securityContext?.appArmorProfile?.type)) bad.push('pod securityContext.appArmorProfile.type="Unconfined"');
          for (const c of podContainers(spec))
            if (fieldBad(c.securityContext?.appArmorProfile?.type))
              bad.push(`container ${JSON.stringify(c.name)} securityContext.appArmorProfile.type="Unconfined"`);
          bad.sort();
          return bad.length ? { reason: plural('forbidden AppArmor profile', 'forbidden AppArmor profiles', bad.length), detail: bad.join(', ') } : undefined;
        },
      },
    ],
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    versions: [
      {
        from: 0,
        check: (_m, spec) => {
          const caps = new Set<string>();
          const v = badContainers(
            spec,
            (c) => {
              const bad = (c.securityContext?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
              for (const cap of bad) caps.add(cap);
              return bad.length > 0;
            },
            'non-default capabilities',
            '',
          );
          return v && { reason: v.reason, detail: `${v.detail}must not include ${quote(sorted(caps))} in securityContext.capabilities.add` };
        },
      },
    ],
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    overrides: ['capabilities_baseline'],
    versions: [
      {
        from: 22,
        check: (_m, spec) => {
          const missingDrop: string[] = [];
          const adding: string[] = [];
          const caps = new Set<string>();
          for (const c of podContainers(spec)) {
            const capabilities = c.securityContext?.capabilities;
            if (!(capabilities?.drop ?? []).includes('ALL')) missingDrop.push(c.name);
            const bad = (capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
            for (const cap of bad) caps.add(cap);
            if (bad.length) adding.push(c.name);
          }
          const details: string[] = [];
          if (missingDrop.length) details.push(`${named(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
          if (adding.length) details.push(`${named(adding)} must not include ${quote(sorted(caps))} in securityContext.capabilities.add`);
          return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
        },
      },
    ],
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    versions: [
      {
        from: 0,
        check: (_m, spec) => {
          const used = [spec.hostIPC && 'hostIPC', spec.hostNetwork && 'hostNetwork', spec.hostPID && 'hostPID'].filter(Boolean) as string[];
          return used.length ? { reason: 'host namespaces', detail: used.join(', ') } : undefined;
        },
      },
    ],
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    versions: [
      {
        from: 0,
        check: (_m, spec) => {
          const names = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
          return names.length ? { reason: 'hostPath volumes', detail: `${plural('volume', 'volumes', names.length)} ${quote(names)}` } : undefined;
        },
      },
    ],
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    versions: [
      {
        from: 0,
        check: (_m, spec) => {
          const ports = new Set<string>();
          const names = podContainers(spec)
            .filter((c) => {
              const used = (c.ports ?? []).filter((p) => p.hostPort).map((p) => String(p.hostPort));
              for (const p of used) ports.add(p);
              return used.length > 0;
            })
            .map((c) => c.name);
          if (!names.length) return undefined;
          const list = sorted(ports);
          return {
            reason: 'hostPort',
            detail: `${named(names)} ${plural('uses', 'use', names.length)} ${plural('hostPort', 'hostPorts', list.length)} ${list.join(', ')}`,
          };
        },
      },
    ],
  },
  {
    id: 'privileged',
    level: 'baseline',
    versions: [
      {
        from: 0,
        check: (_m, spec) => badContainers(spec, (c) => c.securityContext?.privileged === true, 'privileged', 'must not set securityContext.privileged=true'),
      },
    ],
  },
  {
    id: 'procMount_baseline',
    level: 'baseline',
    versions: [
      {
        from: 0,
        check: (_m, spec) => {
          const types = new Set<string>();
          const v = badContainers(
            spec,
            (c) => {
              const t = c.securityContext?.procMount;
              if (t === undefined || t === 'Default') return false;
              types.add(t);
              return true;
            },
            'procMount',
            '',
          );
          return v && { reason: v.reason, detail: `${v.detail}must not set securityContext.procMount to ${quote(sorted(types))}` };
        },
      },
    ],
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    overrides: ['hostPathVolumes'],
    versions: [
      {
        from: 0,
        check: (_m, spec) => {
          const names: string[] = [];
          const kinds = new Set<string>();
          for (const v of spec.volumes ?? []) {
            const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
            if (RESTRICTED_VOLUME_KINDS.has(kind)) continue;
            names.push(v.name);
            kinds.add(kind === 'cephFS' ? 'cephfs' : kind);
          }
          if (!names.length) return undefined;
          const list = sorted(kinds);
          return {
            reason: 'restricted volume types',
            detail: `${plural('volume', 'volumes', names.length)} ${quote(names)} ${plural('uses', 'use', names.length)} ${plural('restricted volume type', 'restricted volume types', list.length)} ${quote(list)}`,
          };
        },
      },
    ],
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    versions: [
      {
        from: 0,
        check: (_m, spec) => {
          if (userNamespaced(spec)) return undefined;
          const r = podOrContainers(spec, {
            pod: spec.securityContext?.runAsNonRoot,
            of: (c) => c.securityContext?.runAsNonRoot,
            good: (v) => v === true,
            required: true,
          });
          if (r.badSetters.length)
            return { reason: 'runAsNonRoot != true', detail: `${r.badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
          if (r.unset.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${named(r.unset)} must set securityContext.runAsNonRoot=true` };
          return undefined;
        },
      },
    ],
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    versions: [
      {
        from: 23,
        check: (_m, spec) => {
          if (userNamespaced(spec)) return undefined;
          const r = podOrContainers(spec, {
            pod: spec.securityContext?.runAsUser,
            of: (c) => c.securityContext?.runAsUser,
            good: (v) => v !== 0,
            required: false,
          });
          return r.badSetters.length ? { reason: 'runAsUser=0', detail: `${r.badSetters.join(' and ')} must not set runAsUser=0` } : undefined;
        },
      },
    ],
  },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    versions: [
      { from: 0, check: seLinuxOptions(0) },
      { from: 31, check: seLinuxOptions(31) },
    ],
  },
  { id: 'seccompProfile_baseline', level: 'baseline', versions: [{ from: 19, check: seccompBaseline }] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    overrides: ['seccompProfile_baseline'],
    versions: [
      {
        from: 19,
        check: (_m, spec) => {
          const r = podOrContainers(spec, {
            pod: spec.securityContext?.seccompProfile?.type,
            of: (c) => c.securityContext?.seccompProfile?.type,
            good: goodSeccomp,
            required: true,
          });
          if (r.badSetters.length)
            return {
              reason: 'seccompProfile',
              detail: `${r.badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${quote(sorted(r.badValues))}`,
            };
          if (r.unset.length)
            return {
              reason: 'seccompProfile',
              detail: `pod or ${named(r.unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
            };
          return undefined;
        },
      },
    ],
  },
  {
    id: 'sysctls',
    level: 'baseline',
    versions: SAFE_SYSCTLS.map(([from]) => ({ from, check: sysctls(from) })),
  },
  {
    id: 'windowsHostProcess',
    level: 'baseline',
    versions: [
      {
        from: 0,
        check: (_m, spec) => {
          const r = podOrContainers(spec, {
            pod: spec.securityContext?.windowsOptions?.hostProcess,
            of: (c) => c.securityContext?.windowsOptions?.hostProcess,
            good: (v) => v !== true,
            required: false,
          });
          return r.badSetters.length
            ? { reason: 'hostProcess', detail: `${r.badSetters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` }
            : undefined;
        },
      },
    ],
  },
];
