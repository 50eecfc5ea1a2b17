import type { Logger, ObjectLabelSelector } from '../../../apimachinery/index.ts';
import { ruleMatches, rulesMatch, selectorsMatch, type AdmissionSelectors, type RuleMatch, type WebhookAttributes } from '../admission-webhooks/index.ts';
import type { RuleWithOperations } from '../admission-webhooks/configurations.ts';
import { mapFeed, type ListWatchHandlers } from '../list-watch.ts';
import type { Obj } from '../resource-info.ts';

// What validating and mutating admission policies share: policies and their
// bindings kept in step with the store, which bound policies a write meets
// (the policy's match constraints, then the binding's match resources), and
// the params a binding gives its policy.

export interface MatchResources extends AdmissionSelectors {
  resourceRules?: RuleWithOperations[];
  excludeResourceRules?: RuleWithOperations[];
  matchPolicy?: 'Exact' | 'Equivalent';
}

export interface ParamRef {
  name?: string;
  namespace?: string;
  selector?: ObjectLabelSelector;
  parameterNotFoundAction?: 'Allow' | 'Deny';
}

/** What both kinds of policy spec hold. */
export interface PolicySpecBase {
  failurePolicy?: 'Fail' | 'Ignore';
  paramKind?: { apiVersion: string; kind: string };
  matchConstraints?: MatchResources;
  matchConditions?: { name: string; expression: string }[];
  variables?: { name: string; expression: string }[];
}

export interface BindingSpecBase {
  policyName?: string;
  paramRef?: ParamRef;
  matchResources?: MatchResources;
}

/** Reads a policy's params: the objects of its paramKind a binding's paramRef names. */
export type ParamReader = (paramKind: { apiVersion: string; kind: string }, ref: ParamRef, namespace: string) => Promise<Obj[]>;

/** A binding whose policy takes a write, and how its constraints took it. */
export interface BoundPolicy<P extends PolicySpecBase, B extends BindingSpecBase> {
  policy: Obj;
  spec: P;
  bindingName: string;
  binding: B;
  match: NonNullable<RuleMatch>;
}

/** How a policy's match constraints or a binding's match resources take a write (undefined: not at all). */
async function matches(m: MatchResources | undefined, a: WebhookAttributes): Promise<RuleMatch> {
  if (!m) return { as: 'written' };
  if (m.excludeResourceRules?.some((r) => ruleMatches(r, a))) return undefined;
  const match: RuleMatch = m.resourceRules ? rulesMatch(m.resourceRules, m.matchPolicy, a) : { as: 'written' };
  return match && (await selectorsMatch(m, a)) ? match : undefined;
}

/** An admission plugin over policies of one kind and their bindings, as the store holds them. */
export class PolicyPlugin<P extends PolicySpecBase, B extends BindingSpecBase> {
  readonly #policies = new Map<string, Obj>();
  readonly #bindings = new Map<string, Obj>();
  protected readonly log: Logger;
  readonly #params: ParamReader;

  constructor(params: ParamReader, log: Logger) {
    this.#params = params;
    this.log = log;
  }

  /** The feed keeping policies or bindings in step with the store. */
  feed(kind: 'policies' | 'bindings'): ListWatchHandlers {
    return mapFeed(kind === 'policies' ? this.#policies : this.#bindings, (o) => o);
  }

  /** Whether any binding exists (nothing else is read for a write otherwise). */
  get active(): boolean {
    return this.#bindings.size > 0;
  }

  /** The bound policies that take a write, by binding name; none for the admission registration API itself. */
  protected async matching(a: WebhookAttributes): Promise<BoundPolicy<P, B>[]> {
    if (!this.active || a.group === 'admissionregistration.k8s.io') return [];
    const found: BoundPolicy<P, B>[] = [];
    for (const [bindingName, bindingObj] of [...this.#bindings].sort(([x], [y]) => x.localeCompare(y))) {
      const binding = (bindingObj.spec ?? {}) as B;
      const policy = this.#policies.get(binding.policyName ?? '');
      if (!policy) continue;
      const spec = (policy.spec ?? {}) as P;
      const match = await matches(spec.matchConstraints, a);
      if (match && (await matches(binding.matchResources, a))) found.push({ policy, spec, bindingName, binding, match });
    }
    return found;
  }

  /**
   * The params a binding gives each evaluation of its policy: one null without
   * paramKind or paramRef; none when none are found and the binding allows
   * that; throws when none are found and it does not.
   */
  protected async paramsFor(spec: P, binding: B, namespace: string): Promise<unknown[]> {
    if (!spec.paramKind || !binding.paramRef) return [null];
    const found = await this.#params(spec.paramKind, binding.paramRef, namespace);
    if (found.length) return found;
    if ((binding.paramRef.parameterNotFoundAction ?? 'Deny') === 'Allow') return [];
    throw new Error('failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction');
  }
}
