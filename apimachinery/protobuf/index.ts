/**
 * Request bodies in Kubernetes' protobuf encoding, turned into the JSON object
 * the rest of the server works with. kubectl's typed commands (`create
 * deployment`, `create secret`, `auth can-i`, `drain` …) send this encoding
 * whatever the server prefers, so the API accepts it on the way in and answers
 * in JSON, which every client also accepts.
 *
 * The message shapes live in the .proto files next to this module. A body
 * whose kind has no shape there, or that carries a field they do not describe,
 * is refused with 415 rather than stored with data missing.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { parseApiVersion } from '../resource-path.ts';
import { ApiError } from '../status.ts';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** Every protobuf object starts with these four bytes, then a runtime.Unknown. */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const PROTO_FILES = [
  'meta',
  'core',
  'apps',
  'autoscaling',
  'batch',
  'rbac',
  'policy',
  'scheduling',
  'networking',
  'certificates',
  'authentication',
  'authorization',
];

let root: protobuf.Root | undefined;

/** Parsed on first use, so processes that never see protobuf do not pay for it. */
function schemas(): protobuf.Root {
  if (!root) {
    const dir = dirname(fileURLToPath(import.meta.url));
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(dir, target);
    root.loadSync(
      PROTO_FILES.map((f) => `${f}.proto`),
      { keepCase: true },
    );
    root.resolveAll();
  }
  return root;
}

/** The .proto package holding a group's kinds: `k8s.apps.v1`, `k8s.core.v1`, `k8s.rbac.v1` … */
function packageOf(apiVersion: string): string {
  const { group, version } = parseApiVersion(apiVersion);
  return `k8s.${group ? group.split('.')[0] : 'core'}.${version}`;
}

function unsupported(message: string): ApiError {
  return new ApiError('UnsupportedMediaType', `${message}; send the object as application/json`);
}

/** Decodes a protobuf request body into the JSON form of the object it holds. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ApiError('BadRequest', 'the protobuf body does not start with the Kubernetes envelope prefix');
  }
  const r = schemas();
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string };
  try {
    envelope = r.lookupType('k8s.meta.v1.Unknown').decode(body.subarray(MAGIC.length)) as typeof envelope;
  } catch (err) {
    throw new ApiError('BadRequest', `the protobuf envelope could not be decoded: ${(err as Error).message}`);
  }
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  if (envelope.contentEncoding) throw unsupported(`protobuf bodies with content encoding ${envelope.contentEncoding} are not accepted`);
  // DeleteOptions travels under the version of the resource being deleted, its shape is meta's
  const type = r.lookup(kind === 'DeleteOptions' ? 'k8s.meta.v1.DeleteOptions' : `${packageOf(apiVersion)}.${kind}`);
  if (!kind || !(type instanceof protobuf.Type)) throw unsupported(`skiff does not accept ${kind || 'objects without a kind'} (${apiVersion}) in protobuf`);
  const raw = envelope.raw ?? new Uint8Array();
  let message: protobuf.Message;
  try {
    message = type.decode(raw);
  } catch (err) {
    throw new ApiError('BadRequest', `the protobuf ${kind} could not be decoded: ${(err as Error).message}`);
  }
  // protobuf skips fields it has no number for; a shorter re-encoding means some were skipped
  if (type.encode(message).finish().length !== raw.length) {
    throw unsupported(`this ${kind} carries fields skiff does not read from protobuf`);
  }
  return { apiVersion, kind, ...(toJson(type, message as unknown as Record<string, unknown>) as Record<string, unknown>) };
}

function toNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(String(v));
}

function rfc3339(seconds: number, nanos: number, fractionDigits: number): string {
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (fractionDigits === 0) return `${iso}Z`;
  return `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

/** The JSON form of one message, with Kubernetes' special types turned into their JSON spelling. */
function toJson(type: protobuf.Type, message: Record<string, unknown>): unknown {
  switch (type.fullName) {
    case '.k8s.meta.v1.Quantity':
      return message.string;
    case '.k8s.meta.v1.IntOrString':
      return toNumber(message.type ?? 0) === 1 ? (message.strVal ?? '') : (message.intVal ?? 0);
    case '.k8s.meta.v1.Time':
    case '.k8s.meta.v1.MicroTime': {
      const seconds = toNumber(message.seconds ?? 0);
      const nanos = toNumber(message.nanos ?? 0);
      if (seconds === 0 && nanos === 0) return undefined;
      return rfc3339(seconds, nanos, type.name === 'Time' ? 0 : 6);
    }
    case '.k8s.meta.v1.FieldsV1':
      return message.raw ? JSON.parse(Buffer.from(message.raw as Uint8Array).toString()) : undefined;
  }
  if (type.name === 'ExtraValue') return message.items ?? [];
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    // absent fields read through to the prototype's defaults; only what the body carried counts
    if (!Object.hasOwn(message, field.name)) continue;
    const value = message[field.name];
    let json: unknown;
    if (field.map) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) continue;
      json = Object.fromEntries(entries.map(([k, v]) => [k, scalarOrMessage(field, v)]));
    } else if (field.repeated) {
      const items = value as unknown[];
      if (items.length === 0) continue;
      json = items.map((v) => scalarOrMessage(field, v));
    } else {
      json = scalarOrMessage(field, value);
      if (!field.resolvedType && isZero(json) && !field.options?.['(keep_zero)']) continue;
    }
    if (json === undefined) continue;
    if (field.name.startsWith('inline_')) Object.assign(out, json);
    else out[field.name] = json;
  }
  return out;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function scalarOrMessage(field: protobuf.Field, value: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Type) return toJson(field.resolvedType, value as Record<string, unknown>);
  switch (field.type) {
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('base64');
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return toNumber(value);
    default:
      return value;
  }
}
