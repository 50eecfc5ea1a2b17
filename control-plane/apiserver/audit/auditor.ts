import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { RequestAttributes, UserInfo } from '../../auth/index.ts';
import { atLeast, auditDecision, type AuditDecision, type AuditPolicy, type AuditStage } from './policy.ts';

// Audit events (audit.k8s.io/v1 Event) for each request the policy logs: one
// at RequestReceived and one at ResponseComplete (less the omitted stages),
// with the request's and the response's bodies where the level asks, which
// the request handlers hand over as they read and write them.

interface Capture {
  decision: AuditDecision;
  requestObject?: unknown;
  responseText?: string;
  /** what admission had to say for the record (webhooks', policies' and the chain's own annotations) */
  annotations: Record<string, string>;
  /** the name and namespace the request body gives its object */
  objectName?: string;
  objectNamespace?: string;
}

const capturing = new AsyncLocalStorage<Capture>();

/**
 * A request body as read, for the audit event of the request being handled: the object's name
 * and namespace complete the event's objectRef (a create's URL names neither); the body itself
 * is kept only at Request level and above.
 */
export function auditRequestObject(body: unknown): void {
  const c = capturing.getStore();
  if (!c) return;
  const metadata = (body as { metadata?: { name?: unknown; namespace?: unknown } } | undefined)?.metadata;
  if (typeof metadata?.name === 'string' && metadata.name) c.objectName = metadata.name;
  if (typeof metadata?.namespace === 'string' && metadata.namespace) c.objectNamespace = metadata.namespace;
  if (atLeast(c.decision.level, 'Request')) c.requestObject = body;
}

/** A response body as sent, for the audit event (kept only at RequestResponse). */
export function auditResponseText(text: string): void {
  const c = capturing.getStore();
  if (c && atLeast(c.decision.level, 'RequestResponse')) c.responseText = text;
}

/**
 * An annotation on the audit event of the request being handled, kept where
 * the event is logged at `level` or above (Metadata: whenever it is logged).
 */
export function auditAnnotation(key: string, value: string, level: 'Metadata' | 'Request' = 'Metadata'): void {
  const c = capturing.getStore();
  if (c && atLeast(c.decision.level, level)) c.annotations[key] ??= value;
}

export interface AuditSink {
  write(event: object): void;
}

export interface AuditedRequest {
  req: IncomingMessage;
  auditID: string;
  /** who authenticated, and who they act as when impersonating */
  user: UserInfo;
  impersonated?: UserInfo;
  attributes: RequestAttributes;
}

/** What a request's audit needs until it completes: run the handler inside, then complete with the answer. */
export interface RequestAudit {
  run<T>(handler: () => Promise<T>): Promise<T>;
  complete(answer: { code: number; status?: { status?: string; message?: string; reason?: string } }, decision?: { allowed: boolean; reason: string }): void;
}

const withoutManagedFields = (obj: unknown): unknown => {
  if (!obj || typeof obj !== 'object' || !('metadata' in obj)) return obj;
  const { managedFields: _m, ...metadata } = (obj as { metadata: Record<string, unknown> }).metadata ?? {};
  return { ...obj, metadata };
};

/** The event's annotations: the authorizer's decision, then what admission said. */
function annotationsOf(c: Capture, authz: { allowed: boolean; reason: string } | undefined): { annotations?: Record<string, string> } {
  const annotations = {
    ...(authz ? { 'authorization.k8s.io/decision': authz.allowed ? 'allow' : 'forbid', 'authorization.k8s.io/reason': authz.reason } : {}),
    ...c.annotations,
  };
  return Object.keys(annotations).length ? { annotations } : {};
}

const userOf = (u: UserInfo) => ({ username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) });

export class Auditor {
  readonly #policy: AuditPolicy;
  readonly #sink: AuditSink;

  constructor(policy: AuditPolicy, sink: AuditSink) {
    this.#policy = policy;
    this.#sink = sink;
  }

  /** Starts a request's audit (writing RequestReceived); undefined when the policy does not log it. */
  begin(r: AuditedRequest): RequestAudit | undefined {
    const decision = auditDecision(this.#policy, r.impersonated ?? r.user, r.attributes);
    if (decision.level === 'None') return undefined;
    const received = new Date().toISOString();
    const a = r.attributes;
    const base = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: decision.level,
      auditID: r.auditID,
      requestURI: r.req.url ?? '/',
      verb: a.verb,
      user: userOf(r.user),
      ...(r.impersonated ? { impersonatedUser: userOf(r.impersonated) } : {}),
      sourceIPs: [r.req.socket.remoteAddress ?? ''],
      ...(r.req.headers['user-agent'] ? { userAgent: r.req.headers['user-agent'] } : {}),
      ...(a.kind === 'resource'
        ? {
            objectRef: {
              resource: a.resource,
              ...(a.namespace ? { namespace: a.namespace } : {}),
              ...(a.name ? { name: a.name } : {}),
              ...(a.apiGroup ? { apiGroup: a.apiGroup } : {}),
              ...(a.subresource ? { subresource: a.subresource } : {}),
            },
          }
        : {}),
      requestReceivedTimestamp: received,
    };
    const write = (stage: AuditStage, extra: object) => {
      if (!decision.omitStages.includes(stage)) this.#sink.write({ ...base, stage, ...extra, stageTimestamp: new Date().toISOString() });
    };
    write('RequestReceived', {});
    const capture: Capture = { decision, annotations: {} };
    const body = (o: unknown) => (decision.omitManagedFields ? withoutManagedFields(o) : o);
    return {
      run: (handler) => capturing.run(capture, handler),
      complete: (answer, authz) => {
        let responseObject: unknown;
        try {
          responseObject = capture.responseText === undefined ? undefined : JSON.parse(capture.responseText);
        } catch {
          responseObject = undefined;
        }
        const objectRef = base.objectRef && {
          ...base.objectRef,
          ...(!base.objectRef.name && capture.objectName ? { name: capture.objectName } : {}),
          ...(!base.objectRef.namespace && capture.objectNamespace ? { namespace: capture.objectNamespace } : {}),
        };
        write('ResponseComplete', {
          ...(objectRef ? { objectRef } : {}),
          responseStatus: { metadata: {}, ...answer.status, code: answer.code },
          ...(capture.requestObject !== undefined ? { requestObject: body(capture.requestObject) } : {}),
          ...(responseObject !== undefined ? { responseObject: body(responseObject) } : {}),
          ...annotationsOf(capture, authz),
        });
      },
    };
  }
}
