import { defineController, watch, type Informer, type RunnableController } from '../../apimachinery/index.ts';
import { policyExpressions, type PolicySpec } from '../apiserver/admission-policies/index.ts';
import type { Controller, ControllerContext } from './context.ts';
import { typeCheck, type CheckedKind, type OpenApiSchema } from './policy-type-check.ts';
import { VALIDATING_ADMISSION_POLICIES } from './shared-informers.ts';

interface Policy {
  metadata: { name: string; generation?: number };
  spec?: PolicySpec;
  status?: { observedGeneration?: number };
}

interface ApiResourceList {
  resources?: { name: string; kind: string }[];
}

interface OpenApiDocument {
  components?: { schemas?: Record<string, OpenApiSchema & { 'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[] }> };
}

/**
 * kube-controller-manager's validatingadmissionpolicy-status controller: each
 * new generation of a ValidatingAdmissionPolicy has its expressions type
 * checked against the kinds its match constraints name (resources named
 * outright; wildcards are not resolved, as upstream), their schemas read from
 * discovery and /openapi/v3 as any client reads them, and the result written
 * to status.typeChecking with status.observedGeneration.
 */
export class AdmissionPolicyStatusController implements Controller {
  readonly name = 'validatingadmissionpolicy-status';
  #ctx: ControllerContext;
  #loop: RunnableController;
  #policies: Informer<Policy>;

  constructor(ctx: ControllerContext) {
    this.#ctx = { ...ctx, log: ctx.log.child({ controller: this.name }) };
    this.#policies = ctx.informers.for<Policy>(VALIDATING_ADMISSION_POLICIES);
    this.#loop = defineController({
      name: this.name,
      log: this.#ctx.log,
      queueMetrics: this.#ctx.queueMetrics,
      backoff: { baseDelayMs: 500, maxDelayMs: 60_000 },
      watches: [watch(this.#policies, (p) => p.metadata.name)],
      reconcile: (key) => this.sync(key),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.#loop.run(signal);
  }

  async sync(name: string): Promise<void> {
    const policy = this.#policies.get(name);
    if (!policy || policy.status?.observedGeneration === policy.metadata.generation) return;
    const spec = policy.spec ?? {};
    const warnings = typeCheck(policyExpressions(spec), await this.#kindsOf(spec));
    await this.#ctx.client.patch(
      { ...VALIDATING_ADMISSION_POLICIES, name, subresource: 'status' },
      // null removes the warnings of an earlier generation
      { status: { observedGeneration: policy.metadata.generation, typeChecking: { expressionWarnings: warnings.length ? warnings : null } } },
      'merge',
    );
    if (warnings.length) this.#ctx.log.info({ policy: name, warnings: warnings.length }, 'admission policy has expressions that do not type check');
  }

  /** The kinds the match constraints name outright, with their schemas; a resource the server does not serve is left out. */
  async #kindsOf(spec: PolicySpec): Promise<CheckedKind[]> {
    const kinds = new Map<string, CheckedKind>();
    for (const rule of spec.matchConstraints?.resourceRules ?? []) {
      for (const group of rule.apiGroups ?? [])
        for (const version of rule.apiVersions ?? [])
          for (const resource of rule.resources ?? []) {
            if ([group, version, resource].includes('*') || resource.includes('/')) continue;
            const found = await this.#kindOf(group, version, resource);
            if (found) kinds.set(found.label, found);
          }
    }
    return [...kinds.values()];
  }

  async #kindOf(group: string, version: string, resource: string): Promise<CheckedKind | undefined> {
    const groupVersion = group ? `apis/${group}/${version}` : `api/${version}`;
    const list = await this.#ctx.client.request<ApiResourceList>('GET', `/${groupVersion}`).catch(() => undefined);
    const kind = list?.resources?.find((r) => r.name === resource)?.kind;
    if (!kind) return undefined;
    const document = await this.#ctx.client.request<OpenApiDocument>('GET', `/openapi/v3/${groupVersion}`);
    const components = document.components?.schemas ?? {};
    const schema = Object.values(components).find((s) =>
      s['x-kubernetes-group-version-kind']?.some((k) => k.group === group && k.version === version && k.kind === kind),
    );
    return schema && { label: `${group ? `${group}/` : '/'}${version}, Kind=${kind}`, schema, components };
  }
}
