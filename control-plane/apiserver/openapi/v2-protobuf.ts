// GET /openapi/v2 in protobuf, the form kubectl's client-side validation,
// helm and client-go's discovery ask for (kubectl validates each item of a
// `kind: List` against it). The JSON document is written again in the
// messages of openapi-v2.proto.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { stringify } from 'yaml';

/** What client-go's discovery sends in Accept; older clients spell it with a dot for the "@". */
const ASKED_FOR = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** The answer's Content-Type: the dotted spelling, as Go's media type parser refuses an "@" in a subtype. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

type Json = Record<string, unknown>;

/** True when the client takes the protobuf document rather than JSON. */
export function wantsOpenApiV2Protobuf(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const type = part.split(';')[0]?.trim();
    return type === ASKED_FOR || type === OPENAPI_V2_PROTOBUF;
  });
}

let documentType: protobuf.Type | undefined;

function messageType(): protobuf.Type {
  if (!documentType) {
    const root = new protobuf.Root();
    root.loadSync(join(dirname(fileURLToPath(import.meta.url)), 'openapi-v2.proto'), { keepCase: true });
    documentType = root.lookupType('openapi.v2.Document');
  }
  return documentType;
}

/** A JSON value as the YAML text the messages carry it in. */
const any = (value: unknown) => ({ yaml: stringify(value) });

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function vendorExtensions(from: Json): { name: string; value: { yaml: string } }[] {
  return Object.entries(from)
    .filter(([key]) => key.startsWith('x-'))
    .map(([name, value]) => ({ name, value: any(value) }));
}

const SCALARS: Record<string, string> = {
  $ref: '_ref',
  format: 'format',
  title: 'title',
  description: 'description',
  pattern: 'pattern',
  discriminator: 'discriminator',
  multipleOf: 'multiple_of',
  maximum: 'maximum',
  minimum: 'minimum',
  exclusiveMaximum: 'exclusive_maximum',
  exclusiveMinimum: 'exclusive_minimum',
  maxLength: 'max_length',
  minLength: 'min_length',
  maxItems: 'max_items',
  minItems: 'min_items',
  maxProperties: 'max_properties',
  minProperties: 'min_properties',
  uniqueItems: 'unique_items',
  readOnly: 'read_only',
  required: 'required',
};

/** One Swagger 2.0 schema as a Schema message; what Swagger 2.0 has no field for (anyOf, oneOf, not, nullable) is left out. */
export function schemaMessage(schema: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    const field = SCALARS[key];
    if (field) out[field] = value;
  }
  if ('default' in schema) out.default = any(schema.default);
  if ('example' in schema) out.example = any(schema.example);
  if (Array.isArray(schema.enum)) out.enum = schema.enum.map(any);
  if (schema.type !== undefined) out.type = { value: [schema.type].flat() };
  if (typeof schema.additionalProperties === 'boolean') out.additional_properties = { boolean: schema.additionalProperties };
  else if (isObject(schema.additionalProperties)) out.additional_properties = { schema: schemaMessage(schema.additionalProperties) };
  if (schema.items !== undefined) out.items = { schema: [schema.items].flat().filter(isObject).map(schemaMessage) };
  if (Array.isArray(schema.allOf)) out.all_of = schema.allOf.filter(isObject).map(schemaMessage);
  if (isObject(schema.properties)) out.properties = namedSchemas(schema.properties);
  const extensions = vendorExtensions(schema);
  if (extensions.length) out.vendor_extension = extensions;
  return out;
}

function namedSchemas(schemas: Json): Json {
  return { additional_properties: Object.entries(schemas).map(([name, value]) => ({ name, value: schemaMessage(value as Json) })) };
}

function operationMessage(operation: Json): Json {
  const parameters = (operation.parameters as Json[] | undefined) ?? [];
  const responses = (operation.responses as Record<string, Json> | undefined) ?? {};
  return {
    parameters: parameters.map((p) => ({
      parameter: { non_body_parameter: { query_parameter_sub_schema: { name: p.name, in: p.in, type: p.type, unique_items: p.uniqueItems === true } } },
    })),
    responses: {
      response_code: Object.entries(responses).map(([code, response]) => ({
        name: code,
        value: {
          response: {
            description: response.description ?? '',
            ...(isObject(response.schema) ? { schema: { schema: schemaMessage(response.schema) } } : {}),
          },
        },
      })),
    },
    vendor_extension: vendorExtensions(operation),
  };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The JSON document openApiV2Document builds, encoded as an openapi.v2.Document. */
export function encodeOpenApiV2(document: Json): Buffer {
  const paths = Object.entries((document.paths as Record<string, Json> | undefined) ?? {}).map(([name, item]) => ({
    name,
    value: Object.fromEntries(METHODS.filter((m) => isObject(item[m])).map((m) => [m, operationMessage(item[m] as Json)])),
  }));
  const type = messageType();
  const message = {
    swagger: document.swagger,
    info: document.info,
    consumes: document.consumes,
    produces: document.produces,
    paths: { path: paths },
    definitions: namedSchemas((document.definitions as Json | undefined) ?? {}),
  };
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}
