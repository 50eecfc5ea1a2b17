// One catalogue of API failures: each maps to a Kubernetes Status reason and
// HTTP code, and ApiError.toStatus() renders the Status object clients parse.

export const StatusReasons = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
} as const;

export type StatusReason = keyof typeof StatusReasons;

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The list metadata a Status may carry: a 410 for a compacted continue token offers one to go on with. */
export interface StatusListMeta {
  continue?: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: StatusListMeta;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | '';
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;
  readonly listMeta: StatusListMeta;
  constructor(reason: StatusReason, message: string, details?: StatusDetails, listMeta: StatusListMeta = {}) {
    super(message);
    this.name = 'ApiError';
    this.reason = reason;
    this.details = details;
    this.listMeta = listMeta;
  }
  get code(): number {
    return StatusReasons[this.reason];
  }
  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.listMeta,
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: withoutEmptyGroup(this.details) } : {}),
      code: this.code,
    };
  }

  /** Rebuilds an ApiError from a Status a server sent. */
  static fromStatus(s: Partial<Status>, httpCode: number): ApiError {
    const reason = (s.reason && s.reason in StatusReasons ? s.reason : reasonForCode(httpCode)) as StatusReason;
    return new ApiError(reason, s.message ?? `HTTP ${httpCode}`, s.details);
  }
}

/** details.group is left out for the core group, as Kubernetes' omitempty does */
function withoutEmptyGroup(details: StatusDetails): StatusDetails {
  if (details.group !== '') return details;
  const { group: _core, ...rest } = details;
  return rest;
}

function reasonForCode(code: number): StatusReason {
  const found = Object.entries(StatusReasons).find(([, c]) => c === code);
  return (found?.[0] as StatusReason | undefined) ?? 'InternalError';
}

/** Resource identity used in error messages: `pods "web"` or `deployments.apps "web"`. */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const errors = {
  notFound: (resource: string, group: string, name: string) =>
    new ApiError('NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, { name, group, kind: resource }),
  alreadyExists: (resource: string, group: string, name: string) =>
    new ApiError('AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`, { name, group, kind: resource }),
  conflict: (resource: string, group: string, name: string, why: string) =>
    new ApiError('Conflict', `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": ${why}`, { name, group, kind: resource }),
  invalid: (kind: string, group: string, name: string, causes: StatusCause[]) =>
    new ApiError('Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
      name,
      group,
      kind,
      causes,
    }),
  badRequest: (message: string) => new ApiError('BadRequest', message),
  methodNotAllowed: (message: string) => new ApiError('MethodNotAllowed', message),
  gone: (message: string, listMeta?: StatusListMeta) => new ApiError('Gone', message, undefined, listMeta),
};

/** A field error, as Kubernetes' field.Error renders into a StatusCause. */
export const fieldErrors = {
  required: (field: string, detail = ''): StatusCause => ({
    reason: 'FieldValueRequired',
    message: detail ? `Required value: ${detail}` : 'Required value',
    field,
  }),
  invalid: (field: string, value: unknown, detail: string): StatusCause => ({
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
    field,
  }),
  notSupported: (field: string, value: unknown, allowed: string[]): StatusCause => ({
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
    field,
  }),
  duplicate: (field: string, value: unknown): StatusCause => ({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}`, field }),
  forbidden: (field: string, detail: string): StatusCause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field }),
  tooMany: (field: string, actual: number, max: number): StatusCause => ({
    reason: 'FieldValueTooMany',
    message: `Too many: ${actual}: must have at most ${max} items`,
    field,
  }),
  tooLong: (field: string, maxBytes: number): StatusCause => ({
    reason: 'FieldValueTooLong',
    message: `Too long: may not be more than ${maxBytes} bytes`,
    field,
  }),
};
