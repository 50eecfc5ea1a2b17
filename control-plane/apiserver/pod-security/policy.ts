import type { PodSpec } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { CHECKS, type Level, type Violation } from './checks.ts';

// A namespace's Pod Security policy (what its pod-security.kubernetes.io/
// labels ask, over the cluster's defaults) and a pod's evaluation against a
// level at a version.

/** The newest version this server knows: `latest` evaluates as it. */
export const LATEST_MINOR = 34;
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];
export const MODES = ['enforce', 'audit', 'warn'] as const;
export type Mode = (typeof MODES)[number];

export interface LevelVersion {
  level: Level;
  /** the minor version of 1.x, or latest */
  version: number | 'latest';
}

export type NamespacePolicy = Record<Mode, LevelVersion>;

/** Defaults as the AdmissionConfiguration's PodSecurityConfiguration spells them (enforce, enforce-version …). */
export type PolicyDefaults = Partial<Record<Mode | `${Mode}-version`, string>>;

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';

export function parseLevel(value: string | undefined): Level | undefined {
  return LEVELS.includes(value as Level) ? (value as Level) : undefined;
}

export function parseVersion(value: string | undefined): number | 'latest' | undefined {
  if (value === 'latest') return 'latest';
  const m = /^v1\.(0|[1-9]\d*)$/.exec(value ?? '');
  if (!m) return undefined;
  const minor = Number(m[1]);
  return minor >= LATEST_MINOR ? 'latest' : minor;
}

/**
 * What a namespace's labels ask for each mode, over the defaults. A level
 * that cannot be read fails closed (restricted), a version latest; warn and
 * audit left unset follow an explicitly set enforce, so what enforce would
 * refuse in a pod is said of the templates that make such pods.
 */
export function namespacePolicy(labels: Record<string, string> | undefined, defaults: PolicyDefaults): NamespacePolicy {
  const l = labels ?? {};
  const one = (mode: Mode): LevelVersion => {
    const rawLevel = l[`${LABEL_PREFIX}${mode}`] ?? defaults[mode] ?? 'privileged';
    const rawVersion = l[`${LABEL_PREFIX}${mode}-version`] ?? defaults[`${mode}-version`] ?? 'latest';
    return { level: parseLevel(rawLevel) ?? 'restricted', version: parseVersion(rawVersion) ?? 'latest' };
  };
  const enforce = one('enforce');
  const explicit = (mode: Mode) => `${LABEL_PREFIX}${mode}` in l;
  const follow = (mode: Mode) => (!explicit(mode) && explicit('enforce') ? enforce : one(mode));
  return { enforce, audit: follow('audit'), warn: follow('warn') };
}

export const formatPolicy = (p: LevelVersion) => `${p.level}:${p.version === 'latest' ? 'latest' : `v1.${p.version}`}`;

/** The checks a pod fails at a level and version, in the order of their ids, as "reason (detail)". */
export function evaluatePod(policy: LevelVersion, meta: ObjectMeta, spec: PodSpec): string[] {
  if (policy.level === 'privileged') return [];
  const minor = policy.version === 'latest' ? Number.POSITIVE_INFINITY : policy.version;
  const applicable = CHECKS.filter((c) => policy.level === 'restricted' || c.level === 'baseline');
  const overridden = new Set(applicable.flatMap((c) => c.overrides ?? []));
  const found: Violation[] = [];
  for (const check of applicable) {
    if (overridden.has(check.id)) continue;
    const body = check.versions.findLast((v) => v.from <= minor);
    const violation = body?.check(meta, spec);
    if (violation) found.push(violation);
  }
  return found.map((v) => `${v.reason} (${v.detail})`);
}
