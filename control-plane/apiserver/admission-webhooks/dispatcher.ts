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
import { webhooksOf, type Webhook } from './configurations.ts';
import { rulesMatch, type RuleMatch, type WriteKind } from './equivalents.ts';
import { selectorsMatch } from './selectors.ts';

// The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins: the
// webhooks of every configuration whose rules, namespace selector and object
// selector match a write are sent an AdmissionReview (admission.k8s.io/v1);
// mutating ones in turn (their JSON patches applied one after another),
// validating ones all at once. A webhook is never called for the webhook
// configurations and admission policies themselves.

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** What a webhook is told of a write. */
export interface WebhookAttributes extends WriteKind {
  operation: Operation;
  kind: string;
  /** the resource the client wrote, where these attributes show the write converted to an equivalent one */
  requested?: { group: string; version: string; resource: string; kind: string };
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
  /** how its rules take the write */
  match: NonNullable<RuleMatch>;
}

/** The write as a webhook or policy whose rules took it through an equivalent resource sees it: converted there. */
export async function viewedAs(a: WebhookAttributes, match: NonNullable<RuleMatch>): Promise<WebhookAttributes> {
  if (match.as === 'written') return a;
  const e = match.resource;
  return {
    ...a,
    group: e.group,
    version: e.version,
    resource: e.resource,
    kind: e.kind,
    requested: { group: a.group, version: a.version, resource: a.resource, kind: a.kind },
    object: a.object && (await e.toEquivalent(a.object)),
    oldObject: a.oldObject && (await e.toEquivalent(a.oldObject)),
  };
}

const ADMISSION_GROUP = 'admissionregistration.k8s.io';
const OPTIONS_KIND: Record<Operation, string> = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions', CONNECT: '' };

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
  #candidates(kind: 'mutating' | 'validating', a: WriteKind): Configured[] {
    if (a.group === ADMISSION_GROUP) return [];
    return [...this.#configurations[kind].entries()]
      .sort(([x], [y]) => x.localeCompare(y))
      .flatMap(([configuration, hooks]) =>
        hooks.flatMap((webhook) => {
          const match = rulesMatch(webhook.rules, webhook.matchPolicy, a);
          return match ? [{ configuration, webhook, match }] : [];
        }),
      );
  }

  /** Whether any webhook's rules take writes of this kind (before selectors): the caller then reads what they need. */
  interested(a: WriteKind): boolean {
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
   * the object, what they warned, and whether a patch changed the object.
   */
  async mutate(a: WebhookAttributes): Promise<{ object?: Obj; warnings: string[]; changed: boolean }> {
    const warnings: string[] = [];
    let object = a.object;
    // how many patches changed the object so far, and how many had when each webhook was called
    let changes = 0;
    const invoked: { called: Configured; changesSeen: number }[] = [];
    let index = 0;
    // `view`: the write as this webhook sees it, when already worked out for its selectors
    const invoke = async (called: Configured, round: number, view?: WebhookAttributes) => {
      const { webhook, match } = called;
      const seen = view ?? (await viewedAs({ ...a, object }, match));
      const response = await this.#call(webhook, seen, 'admit');
      if (!response) return;
      warnings.push(...(response.warnings ?? []));
      let mutated = false;
      if (response.patch && seen.object) {
        const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as fastJsonPatch.Operation[];
        const applied = fastJsonPatch.applyPatch(structuredClone(seen.object), ops, false, false).newDocument as Obj;
        // patched as the webhook saw it, kept in the written resource's form
        const patched = match.as === 'equivalent' ? await match.resource.fromEquivalent(applied) : applied;
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
      const seen = await viewedAs({ ...a, object }, called.match);
      if (!(await this.#selected(called.webhook, seen))) continue;
      await invoke(called, 0, seen);
      invoked.push({ called, changesSeen: changes });
    }
    const again = invoked.filter((i) => i.called.webhook.reinvocationPolicy === 'IfNeeded' && i.changesSeen < changes);
    index = 0;
    for (const { called } of again) await invoke(called, 1);
    return { object, warnings, changed: changes > 0 };
  }

  /** Sends the write to the validating webhooks at once; throws the first refusal, returns what they warned. */
  async validate(a: WebhookAttributes): Promise<string[]> {
    const selected: [Webhook, WebhookAttributes][] = [];
    for (const { webhook, match } of this.#candidates('validating', a)) {
      const seen = await viewedAs(a, match);
      if (await this.#selected(webhook, seen)) selected.push([webhook, seen]);
    }
    const answers = await Promise.all(selected.map(([w, seen]) => this.#call(w, seen, 'validate')));
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
    const requested = a.requested ?? a;
    const request = {
      uid,
      kind: { group: a.group, version: a.version, kind: a.kind },
      resource: { group: a.group, version: a.version, resource: a.resource },
      ...(a.subresource ? { subResource: a.subresource } : {}),
      requestKind: { group: requested.group, version: requested.version, kind: requested.kind },
      requestResource: { group: requested.group, version: requested.version, resource: requested.resource },
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
