import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_POD_SECURITY, type PodSecurityConfig } from './admission.ts';
import { LEVELS, MODES, parseLevel, parseVersion, type PolicyDefaults } from './policy.ts';

// kube-apiserver's --admission-control-config-file: an AdmissionConfiguration
// (apiserver.config.k8s.io/v1) whose PodSecurity plugin entry carries a
// PodSecurityConfiguration (pod-security.admission.config.k8s.io/v1): the
// cluster-wide defaults and the exemptions.

interface PluginEntry {
  name?: string;
  configuration?: { kind?: string; defaults?: PolicyDefaults; exemptions?: Partial<PodSecurityConfig['exemptions']> };
  path?: string;
}

/** Reads the PodSecurity configuration from an AdmissionConfiguration file (the defaults when it names none). */
export async function loadPodSecurityConfig(path: string): Promise<PodSecurityConfig> {
  const doc = parseYaml(await readFile(path, 'utf8')) as { kind?: string; plugins?: PluginEntry[] };
  if (doc?.kind !== 'AdmissionConfiguration') throw new Error(`${path}: not an AdmissionConfiguration (kind ${doc?.kind})`);
  const entry = (doc.plugins ?? []).find((p) => p.name === 'PodSecurity');
  if (!entry) return DEFAULT_POD_SECURITY;
  const cfg = entry.configuration ?? (entry.path ? (parseYaml(await readFile(entry.path, 'utf8')) as PluginEntry['configuration']) : undefined);
  if (!cfg) return DEFAULT_POD_SECURITY;
  if (cfg.kind !== 'PodSecurityConfiguration')
    throw new Error(`${path}: the PodSecurity plugin's configuration is no PodSecurityConfiguration (kind ${cfg.kind})`);
  const defaults = cfg.defaults ?? {};
  for (const mode of MODES) {
    const level = defaults[mode];
    if (level !== undefined && !parseLevel(level)) throw new Error(`${path}: defaults.${mode}: ${level} is none of ${LEVELS.join(', ')}`);
    const version = defaults[`${mode}-version`];
    if (version !== undefined && parseVersion(version) === undefined)
      throw new Error(`${path}: defaults.${mode}-version: ${version} is neither latest nor v1.N`);
  }
  const e = cfg.exemptions ?? {};
  return { defaults, exemptions: { usernames: e.usernames ?? [], namespaces: e.namespaces ?? [], runtimeClasses: e.runtimeClasses ?? [] } };
}

/** An AdmissionConfiguration whose PodSecurity defaults enforce, audit and warn `level` at latest (what --pod-security-default writes). */
export function podSecurityDefaultsFile(level: string): string {
  if (!parseLevel(level)) throw new Error(`--pod-security-default: ${level} is none of ${LEVELS.join(', ')}`);
  return `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults:
      enforce: ${level}
      enforce-version: latest
      audit: ${level}
      audit-version: latest
      warn: ${level}
      warn-version: latest
    exemptions:
      usernames: []
      runtimeClasses: []
      namespaces: []
`;
}
