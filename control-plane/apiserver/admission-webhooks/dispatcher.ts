import { randomUUID } from 'node:crypto';
import fastJsonPatch from 'fast-json-patch';
import { ApiError, type Logger } from '../../../apimachinery/index.ts';
import type { UserInfo } from '../../auth/index.ts';
import { auditAnnotation } from '../audit/index.ts';
import { mapFeed, type ListWatchHandlers } from '../list-watch.ts';
import type { Obj } from '../resource-info.ts';
import { postToWebhook, type ServiceResolver } from '../webhook-client.ts';
import { celProgram } from '../custom-resources/cel-library.ts';
import { admissionVariables } from './cel-variables.ts';
import { webhooksOf, type RuleWithOperations, type Webhook } from './configurations.ts';
import { selectorsMatch } from './selectors.ts';

// The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins: the
// webhooks of every configuration whose rules, namespace selector and object
// selector match a write are sent an AdmissionReview (admission.k8s.io/v1);
// mutating ones in turn (their JSON patches applied one after another),
// validating ones all at once. A webhook is never called for the webhook
// configurations and admission policies themselves.

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** What a webhook is told of a write. */
export interface WebhookAttributes {
  operation: Operation;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  kind: string;
  namespaced: boolean;
  name: string;
  namespace: string;
  object?: Obj;
  oldObject?: Obj;
  user: UserInfo;
  dryRun: boolean;
  /** the labels of the namespace written to (read only when a webhook's namespace selector asks) */
  namespaceLabels: () => Promise<Record<string, string> | undefined>;
}

/** One call of a webhook, for the admission webhook metrics. */
export interface WebhookCall {
  name: string;
  type: 'admit' | 'validate';
  operation: Operation;
  seconds: number;
  /** the webhook's HTTP answer (0: no answer to be had) */
  code: number;
  rejected: boolean;
  /** why the write was refused: the webhook said no (its status code), or calling it failed */
  rejection?: { errorType: 'no_error' | 'calling_webhook_error'; code: number };
  /** calling it failed and its failurePolicy let the write through */
  failedOpen?: boolean;
}

export interface WebhookDispatcherOptions {
  resolve: ServiceResolver;
  log: Logger;
  /** told of every call */
  observe?: (call: WebhookCall) => void;
}

interface Configured {
  configuration: string;
  webhook: Webhook;
}

const ADMISSION_GROUP = 'admissionregistration.k8s.io';
const OPTIONS_KIND: Record<Operation, string> = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions', CONNECT: '' };

const listed = (xs: string[] | undefined, value: string) => !!xs?.some((x) => x === '*' || x === value);

function resourceListed(patterns: string[] | undefined, resource: string, subresource: string): boolean {
  return !!patterns?.some((p) => {
    const [r, sub] = p.split('/') as [string, string | undefined];
    if (sub === undefined) return !subresource && (r === '*' || r === resource);
    return (r === '*' || r === resource) && (sub === '*' || sub === subresource);
  });
}

/** Whether a rule (of a webhook, or an admission policy's match constraints) takes a write of this kind. */
export function ruleMatches(
  rule: RuleWithOperations,
  a: Pick<WebhookAttributes, 'operation' | 'group' | 'version' | 'resource' | 'subresource' | 'namespaced'>,
): boolean {
  const scope = rule.scope ?? '*';
  return (
    listed(rule.operations, a.operation) &&
    listed(rule.apiGroups, a.group) &&
    listed(rule.apiVersions, a.version) &&
    resourceListed(rule.resources, a.resource, a.subresource) &&
    (scope === '*' || (scope === 'Namespaced') === a.namespaced)
  );
}

export class WebhookDispatcher {
  readonly #configurations = { mutating: new Map<string, Webhook[]>(), validating: new Map<string, Webhook[]>() };
  readonly #resolve: ServiceResolver;
  readonly #log: Logger;
  readonly #observe: ((call: WebhookCall) => void) | undefined;

  constructor(o: WebhookDispatcherOptions) {
    this.#resolve = o.resolve;
    this.#log = o.log;
    this.#observe = o.observe;
  }

  /** The feed that keeps the mutating or validating configurations in step with the store. */
  feed(kind: 'mutating' | 'validating'): ListWatchHandlers {
    return mapFeed(this.#configurations[kind], webhooksOf);
  }

  /** The webhooks whose rules take this write, by configuration name (kube-apiserver's order). */
  #candidates(kind: 'mutating' | 'validating', a: Parameters<typeof ruleMatches>[1]): Configured[] {
    if (a.group === ADMISSION_GROUP) return [];
    return [...this.#configurations[kind].entries()]
      .sort(([x], [y]) => x.localeCompare(y))
      .flatMap(([configuration, hooks]) => hooks.filter((w) => (w.rules ?? []).some((r) => ruleMatches(r, a))).map((webhook) => ({ configuration, webhook })));
  }

  /** Whether any webhook's rules take writes of this kind (before selectors): the caller then reads what they need. */
  interested(a: Parameters<typeof ruleMatches>[1]): boolean {
    return this.#candidates('mutating', a).length > 0 || this.#candidates('validating', a).length > 0;
  }

  async #selected(w: Webhook, a: WebhookAttributes): Promise<boolean> {
    return (await selectorsMatch(w, a)) && this.#conditionsHold(w, a);
  }

  /** The webhook's matchConditions; one that cannot be evaluated fails the write, or skips the webhook under Ignore. */
  #conditionsHold(w: Webhook, a: WebhookAttributes): boolean {
    if (!w.matchConditions?.length) return true;
    const vars = admissionVariables(a);
    for (const c of w.matchConditions) {
      let held: unknown;
      try {
        held = celProgram(c.expression)(vars);
      } catch (err) {
        if (w.failurePolicy === 'Ignore') return false;
        throw new ApiError(
          'InternalError',
          `Internal error occurred: failed calling webhook "${w.name}": match condition "${c.name}" failed: ${(err as Error).message.split('\n')[0]}`,
        );
      }
      if (held !== true) return false;
    }
    return true;
  }

  /**
   * Sends the write through the mutating webhooks in turn, each one's JSON
   * patch applied; then once more through those of reinvocationPolicy
   * IfNeeded that a later webhook's patch changed the object after. Returns
   * the object and what they warned.
   */
  async mutate(a: WebhookAttributes): Promise<{ object?: Obj; warnings: string[] }> {
    const warnings: string[] = [];
    let object = a.object;
    // how many patches changed the object so far, and how many had when each webhook was called
    let changes = 0;
    const invoked: { called: Configured; changesSeen: number }[] = [];
    let index = 0;
    const invoke = async (called: Configured, round: number) => {
      const { webhook } = called;
      const response = await this.#call(webhook, { ...a, object }, 'admit');
      if (!response) return;
      warnings.push(...(response.warnings ?? []));
      let mutated = false;
      if (response.patch && object) {
        const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as fastJsonPatch.Operation[];
        const patched = fastJsonPatch.applyPatch(structuredClone(object), ops, false, false).newDocument as Obj;
        mutated = JSON.stringify(patched) !== JSON.stringify(object);
        object = patched;
        const at = `round_${round}_index_${index}`;
        auditAnnotation(
          `patch.webhook.admission.k8s.io/${at}`,
          JSON.stringify({ configuration: called.configuration, webhook: webhook.name, patch: ops, patchType: 'JSONPatch' }),
          'Request',
        );
      }
      auditAnnotation(
        `mutation.webhook.admission.k8s.io/round_${round}_index_${index}`,
        JSON.stringify({ configuration: called.configuration, webhook: webhook.name, mutated }),
      );
      index++;
      if (mutated) changes++;
    };
    for (const called of this.#candidates('mutating', a)) {
      if (!(await this.#selected(called.webhook, { ...a, object }))) continue;
      await invoke(called, 0);
      invoked.push({ called, changesSeen: changes });
    }
    const again = invoked.filter((i) => i.called.webhook.reinvocationPolicy === 'IfNeeded' && i.changesSeen < changes);
    index = 0;
    for (const { called } of again) await invoke(called, 1);
    return { object, warnings };
  }

  /** Sends the write to the validating webhooks at once; throws the first refusal, returns what they warned. */
  async validate(a: WebhookAttributes): Promise<string[]> {
    const selected: Webhook[] = [];
    for (const { webhook } of this.#candidates('validating', a)) if (await this.#selected(webhook, a)) selected.push(webhook);
    const answers = await Promise.all(selected.map((w) => this.#call(w, a, 'validate')));
    return answers.flatMap((r) => r?.warnings ?? []);
  }

  /** One AdmissionReview: the response of an admitting webhook, undefined where a failing one is ignored; throws the refusal. */
  async #call(w: Webhook, a: WebhookAttributes, type: WebhookCall['type']): Promise<{ patch?: string; warnings?: string[] } | undefined> {
    if (a.dryRun && w.sideEffects !== 'None' && w.sideEffects !== 'NoneOnDryRun')
      throw new ApiError('BadRequest', `admission webhook "${w.name}" does not support dry run`);
    const started = performance.now();
    const report = (r: Pick<WebhookCall, 'code' | 'rejected' | 'rejection' | 'failedOpen'>) =>
      this.#observe?.({ name: w.name, type, operation: a.operation, seconds: (performance.now() - started) / 1000, ...r });
    const uid = randomUUID();
    const gvk = { group: a.group, version: a.version, kind: a.kind };
    const gvr = { group: a.group, version: a.version, resource: a.resource };
    const request = {
      uid,
      kind: gvk,
      resource: gvr,
      ...(a.subresource ? { subResource: a.subresource } : {}),
      requestKind: gvk,
      requestResource: gvr,
      ...(a.subresource ? { requestSubResource: a.subresource } : {}),
      name: a.name,
      ...(a.namespace ? { namespace: a.namespace } : {}),
      operation: a.operation,
      userInfo: { username: a.user.name, ...(a.user.uid ? { uid: a.user.uid } : {}), groups: a.user.groups, ...(a.user.extra ? { extra: a.user.extra } : {}) },
      object: a.object ?? null,
      oldObject: a.oldObject ?? null,
      dryRun: a.dryRun,
      options: OPTIONS_KIND[a.operation] ? { apiVersion: 'meta.k8s.io/v1', kind: OPTIONS_KIND[a.operation] } : null,
    };
    let response: {
      uid?: string;
      allowed?: boolean;
      status?: { code?: number; message?: string; reason?: string };
      patch?: string;
      patchType?: string;
      warnings?: string[];
      auditAnnotations?: Record<string, string>;
    };
    // the webhook's HTTP answer, once there is one
    let code = 0;
    try {
      const review = (await postToWebhook(
        w.clientConfig,
        this.#resolve,
        { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request },
        (w.timeoutSeconds ?? 10) * 1000,
      )) as {
        response?: typeof response;
      };
      code = 200;
      if (!review?.response) throw new Error('webhook response was absent');
      response = review.response;
      if (response.uid !== uid) throw new Error(`expected response.uid="${uid}", got "${response.uid}"`);
      if (response.patch && response.patchType !== 'JSONPatch') throw new Error(`unsupported patch type "${response.patchType}"`);
    } catch (err) {
      code = (err as { statusCode?: number }).statusCode ?? code;
      if (w.failurePolicy === 'Ignore') {
        this.#log.warn({ webhook: w.name, err: (err as Error).message }, 'failed calling webhook, failing open');
        report({ code, rejected: false, failedOpen: true });
        return undefined;
      }
      report({ code, rejected: true, rejection: { errorType: 'calling_webhook_error', code: 0 } });
      throw new ApiError('InternalError', `Internal error occurred: failed calling webhook "${w.name}": failed to call webhook: ${(err as Error).message}`);
    }
    if (!response.allowed) {
      const s = response.status ?? {};
      const said = s.message ? `: ${s.message}` : s.reason ? `: ${s.reason}` : ' without explanation';
      const refusal = (s.code ?? 0) < 400 ? 400 : (s.code as number);
      report({ code: 200, rejected: true, rejection: { errorType: 'no_error', code: refusal } });
      throw ApiError.fromStatus(
        { message: `admission webhook "${w.name}" denied the request${said}`, ...(s.reason ? { reason: s.reason as never } : {}) },
        refusal,
      );
    }
    report({ code: 200, rejected: false });
    for (const [key, value] of Object.entries(response.auditAnnotations ?? {})) auditAnnotation(`${w.name}/${key}`, value);
    return response;
  }
}
