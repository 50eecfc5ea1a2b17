import { apiVersionOf, type Obj, type ResourceInfo } from '../resource-info.ts';
import type { RuleWithOperations } from './configurations.ts';

// matchPolicy Equivalent: a webhook or admission policy whose rules name one
// version of a resource (autoscaling/v1 horizontalpodautoscalers, one version
// of a custom resource, core Events) takes writes through every other version
// or group serving the same stored objects, and sees them converted to the
// version its rules name, as kube-apiserver converts them.

/** Another version (or group) of the resource written, serving the same stored objects. */
export interface EquivalentResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  /** the written object as this resource presents it */
  toEquivalent(obj: Obj): Promise<Obj>;
  /** an object as this resource presents it, back in the written resource's form */
  fromEquivalent(obj: Obj): Promise<Obj>;
}

/** What rules are matched against: a write of a kind, and where its equivalents are found (read only when needed). */
export interface WriteKind {
  operation: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespaced: boolean;
  equivalents?: () => EquivalentResource[];
}

const listed = (xs: string[] | undefined, value: string) => !!xs?.some((x) => x === '*' || x === value);

function resourceListed(patterns: string[] | undefined, resource: string, subresource: string): boolean {
  return !!patterns?.some((p) => {
    const [r, sub] = p.split('/') as [string, string | undefined];
    if (sub === undefined) return !subresource && (r === '*' || r === resource);
    return (r === '*' || r === resource) && (sub === '*' || sub === subresource);
  });
}

/** Whether a rule (of a webhook, or an admission policy's match constraints) takes a write of this kind. */
export function ruleMatches(rule: RuleWithOperations, a: Omit<WriteKind, 'equivalents'>): boolean {
  const scope = rule.scope ?? '*';
  return (
    listed(rule.operations, a.operation) &&
    listed(rule.apiGroups, a.group) &&
    listed(rule.apiVersions, a.version) &&
    resourceListed(rule.resources, a.resource, a.subresource) &&
    (scope === '*' || (scope === 'Namespaced') === a.namespaced)
  );
}

/** How rules take a write: as written, through an equivalent resource, or not at all. */
export type RuleMatch = { as: 'written' } | { as: 'equivalent'; resource: EquivalentResource } | undefined;

/**
 * How a set of rules takes a write: as written when a rule names it; else,
 * under matchPolicy Equivalent (the default), through the first equivalent
 * resource a rule names.
 */
export function rulesMatch(rules: RuleWithOperations[] | undefined, matchPolicy: 'Exact' | 'Equivalent' | undefined, a: WriteKind): RuleMatch {
  if (!rules?.length) return undefined;
  if (rules.some((r) => ruleMatches(r, a))) return { as: 'written' };
  if (matchPolicy === 'Exact' || !a.equivalents) return undefined;
  for (const e of a.equivalents())
    if (rules.some((r) => ruleMatches(r, { ...a, group: e.group, version: e.version, resource: e.resource }))) return { as: 'equivalent', resource: e };
  return undefined;
}

const storedAs = (info: ResourceInfo) => (info.storage ? `${info.storage.group}/${info.storage.resource}` : `${info.group}/${info.resource}`);

/** An object of one served resource as another serving the same stored objects presents it. */
async function convert(obj: Obj, from: ResourceInfo, to: ResourceInfo): Promise<Obj> {
  // a custom resource converting through its webhook goes there straight
  const call = from.storage?.convert ?? to.storage?.convert;
  if (call) return call(obj, apiVersionOf(to));
  const stored = from.storage ? from.storage.toStorage(obj) : obj;
  return to.storage ? to.storage.fromStorage(stored) : stored;
}

/**
 * The resources other than `written` among `served` that serve its stored
 * objects; none for subresources other than status, whose bodies are not the
 * object (a Scale is the same in every version).
 */
export function equivalentsOf(written: ResourceInfo, served: Iterable<ResourceInfo>, subresource: string): EquivalentResource[] {
  if (subresource && subresource !== 'status') return [];
  const stored = storedAs(written);
  const seen = new Set([`${written.group}/${written.version}/${written.resource}`]);
  const found: EquivalentResource[] = [];
  for (const info of served) {
    const key = `${info.group}/${info.version}/${info.resource}`;
    if (seen.has(key) || storedAs(info) !== stored || info.virtual) continue;
    seen.add(key);
    found.push({
      group: info.group,
      version: info.version,
      resource: info.resource,
      kind: info.kind,
      toEquivalent: (obj) => convert(obj, written, info),
      fromEquivalent: (obj) => convert(obj, info, written),
    });
  }
  return found;
}
