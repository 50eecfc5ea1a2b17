import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { RequestAttributes, UserInfo } from '../../auth/index.ts';

// An audit Policy (audit.k8s.io/v1): the first rule that matches a request
// sets its level (None, Metadata, Request, RequestResponse) and the stages
// left out; a request no rule matches is not logged.

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';
const LEVELS: readonly AuditLevel[] = ['None', 'Metadata', 'Request', 'RequestResponse'];

/** Whether an event logged at `level` carries what `least` asks for (levels only add to each other). */
export const atLeast = (level: AuditLevel, least: AuditLevel): boolean => LEVELS.indexOf(level) >= LEVELS.indexOf(least);
const STAGES: readonly AuditStage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];

interface GroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}

interface AuditRule {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: AuditStage[];
  omitManagedFields?: boolean;
}

export interface AuditPolicy {
  rules: AuditRule[];
  omitStages: AuditStage[];
  omitManagedFields: boolean;
}

export interface AuditDecision {
  level: AuditLevel;
  omitStages: AuditStage[];
  omitManagedFields: boolean;
}

const NOT_LOGGED: AuditDecision = { level: 'None', omitStages: [], omitManagedFields: false };

// A resource name in a rule: pods, pods/log, a star for all, star-slash-status for that subresource of all, pods-slash-star for all of pods'.
function resourceMatches(pattern: string, resource: string, subresource: string | undefined): boolean {
  const full = subresource ? `${resource}/${subresource}` : resource;
  if (pattern === '*' || pattern === full) return true;
  if (pattern.startsWith('*/')) return !!subresource && pattern.slice(2) === subresource;
  if (pattern.endsWith('/*')) return !!subresource && pattern.slice(0, -2) === resource;
  return false;
}

function ruleMatches(rule: AuditRule, user: UserInfo, a: RequestAttributes): boolean {
  if (rule.users?.length && !rule.users.includes(user.name)) return false;
  if (rule.userGroups?.length && !rule.userGroups.some((g) => user.groups.includes(g))) return false;
  if (rule.verbs?.length && !rule.verbs.includes(a.verb)) return false;
  if (a.kind === 'nonResource') {
    if (rule.resources?.length || rule.namespaces?.length) return false;
    if (!rule.nonResourceURLs?.length) return true;
    return rule.nonResourceURLs.some((u) => (u.endsWith('*') ? a.path.startsWith(u.slice(0, -1)) : a.path === u));
  }
  if (rule.nonResourceURLs?.length) return false;
  if (rule.namespaces?.length && !rule.namespaces.includes(a.namespace ?? '')) return false;
  if (!rule.resources?.length) return true;
  return rule.resources.some(
    (gr) =>
      (gr.group ?? '') === a.apiGroup &&
      (!gr.resources?.length || gr.resources.some((r) => resourceMatches(r, a.resource, a.subresource))) &&
      (!gr.resourceNames?.length || (!!a.name && gr.resourceNames.includes(a.name))),
  );
}

/** What the policy says of a request: its level, and the stages left out. */
export function auditDecision(policy: AuditPolicy, user: UserInfo, a: RequestAttributes): AuditDecision {
  const rule = policy.rules.find((r) => ruleMatches(r, user, a));
  if (!rule) return NOT_LOGGED;
  return {
    level: rule.level,
    omitStages: [...new Set([...policy.omitStages, ...(rule.omitStages ?? [])])],
    omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields,
  };
}

/** Parses an audit Policy's text, refusing levels and stages it does not know. */
export function parseAuditPolicy(text: string, source = 'audit policy'): AuditPolicy {
  const doc = parseYaml(text) as { kind?: string; rules?: AuditRule[]; omitStages?: AuditStage[]; omitManagedFields?: boolean };
  if (doc?.kind !== 'Policy') throw new Error(`${source}: not an audit Policy (kind ${doc?.kind})`);
  const stages = (xs: unknown[] | undefined, at: string) => {
    for (const s of xs ?? []) if (!STAGES.includes(s as AuditStage)) throw new Error(`${source}: ${at}: unknown stage ${String(s)}`);
  };
  stages(doc.omitStages, 'omitStages');
  (doc.rules ?? []).forEach((r, i) => {
    if (!LEVELS.includes(r.level)) throw new Error(`${source}: rules[${i}].level: ${r.level} is none of ${LEVELS.join(', ')}`);
    stages(r.omitStages, `rules[${i}].omitStages`);
  });
  return { rules: doc.rules ?? [], omitStages: doc.omitStages ?? [], omitManagedFields: doc.omitManagedFields ?? false };
}

export async function loadAuditPolicy(path: string): Promise<AuditPolicy> {
  return parseAuditPolicy(await readFile(path, 'utf8'), path);
}
