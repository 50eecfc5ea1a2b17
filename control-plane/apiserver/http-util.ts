import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, drained, errors } from '../../apimachinery/index.ts';
import { parse as parseYaml } from 'yaml';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from '../../apimachinery/protobuf/index.ts';
import { auditRequestObject, auditResponseText } from './audit/index.ts';

/** Largest request body accepted, as kube-apiserver's default (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

const OBJECT_MEDIA_TYPES = ['application/json', PROTOBUF_MEDIA_TYPE];
const APPLY_PATCH = 'application/apply-patch+yaml';
const PATCH_MEDIA_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', APPLY_PATCH];

/**
 * Reads a request body into an object. Objects come as JSON or Kubernetes
 * protobuf; patches (allowPatchTypes) only in their JSON forms.
 */
export async function readBody(req: IncomingMessage, opts: { allowPatchTypes?: boolean; allowEmpty?: boolean } = {}): Promise<unknown> {
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim() ?? '';
  const accepted = opts.allowPatchTypes ? PATCH_MEDIA_TYPES : OBJECT_MEDIA_TYPES;
  if (!(type === '*/*' || accepted.includes(type))) {
    throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError('RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(c as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  if (type === PROTOBUF_MEDIA_TYPE && bytes.length > 0) {
    const decoded = decodeProtobufObject(bytes);
    auditRequestObject(decoded);
    return decoded;
  }
  const text = bytes.toString();
  if (!text.trim()) {
    if (opts.allowEmpty) return undefined;
    throw errors.badRequest('the request body is empty');
  }
  let body: unknown;
  try {
    // an apply configuration is YAML (of which JSON is a part)
    body = type === APPLY_PATCH ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`the object provided is unrecognized (must be JSON): ${(err as Error).message}`);
  }
  if (nestedDeeperThan(body, MAX_NESTING)) throw errors.badRequest('the object provided is unrecognized (must be JSON): exceeded max depth');
  auditRequestObject(body);
  return body;
}

/** Deepest nesting of a body, as Go's JSON decoder allows: every recursive walk after it stays within the stack. */
const MAX_NESTING = 10_000;

function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, depth] = next;
    if (v === null || typeof v !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** Can we answer this Accept header with JSON? */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const t = part.split(';')[0]?.trim() ?? '';
    return t === 'application/json' || t === '*/*' || t === 'application/*' || t === 'application/yaml' || t === 'text/plain';
  });
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  sendRawJson(res, code, JSON.stringify(body), headers);
}

/** Sends a body that is JSON text already, ended by a newline as Kubernetes' encoder ends it. */
export function sendRawJson(res: ServerResponse, code: number, text: string, headers: Record<string, string | string[]> = {}): void {
  const body = `${text}\n`;
  auditResponseText(text);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache, private', ...headers });
  res.end(body);
}

/** Items per write of a streamed list: a few MiB of JSON at most, for a list of pods. */
const LIST_CHUNK = 500;

/**
 * Sends a list, `head` being its JSON up to the items: a chunk of items per
 * write, waiting for the socket to drain, so a list of thousands of objects is
 * never one string (nor one buffer) of its own. `encode` turns an item into
 * JSON (items from the watch cache are JSON already).
 */
export async function sendJsonList<T>(res: ServerResponse, head: string, items: readonly T[], encode: (item: T) => string): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  let more = res.write(`${head}[`);
  for (let i = 0; i < items.length && !res.destroyed; i += LIST_CHUNK) {
    if (!more) await drained(res);
    more = res.write(
      (i > 0 ? ',' : '') +
        items
          .slice(i, i + LIST_CHUNK)
          .map(encode)
          .join(','),
    );
  }
  res.end(']}\n');
}

export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, err.code, err.toStatus());
}
