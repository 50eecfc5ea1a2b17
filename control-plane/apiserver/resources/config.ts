import { fieldErrors, type StatusCause } from '../../../apimachinery/index.ts';
import type { Obj, Strategy } from '../resource-info.ts';
import { age } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, column } from './columns.ts';
import { immutable } from '../validate-fields.ts';

const KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function validateKeys(data: unknown, field: string): StatusCause[] {
  if (data === undefined) return [];
  if (!data || typeof data !== 'object' || Array.isArray(data)) return [fieldErrors.invalid(field, data, 'must be a map of strings')];
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(data)) {
    if (!KEY.test(k) || k.length > 253)
      causes.push(fieldErrors.invalid(`${field}[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"));
    if (typeof v !== 'string') causes.push(fieldErrors.invalid(`${field}[${k}]`, v, 'must be a string'));
  }
  return causes;
}

/** Immutable objects (immutable: true) keep their data, and stay immutable. */
function validateImmutable(obj: Obj, old: Obj): StatusCause[] {
  if (old.immutable !== true) return [];
  return [
    ...immutable(obj.immutable, true, 'immutable'),
    ...immutable(obj.data, old.data, 'data'),
    ...immutable(obj.binaryData ?? obj.stringData, old.binaryData ?? old.stringData, obj.binaryData ? 'binaryData' : 'data'),
  ];
}

/** A ConfigMap's or Secret's data may hold this much in all (keys and decoded values), as Kubernetes' MaxSecretSize. */
const MAX_DATA_BYTES = 1024 * 1024;

function dataBytes(data: unknown, decode: (v: string) => number): number {
  let total = 0;
  for (const [k, v] of Object.entries((data as Record<string, unknown> | undefined) ?? {})) total += k.length + (typeof v === 'string' ? decode(v) : 0);
  return total;
}
const textBytes = (v: string) => Buffer.byteLength(v);
const base64Bytes = (v: string) => Buffer.from(v, 'base64').length;

/** `data: null` is no data at all, and a key whose value is null has the empty value, as Go's decoder reads them (ingress-nginx and Argo CD ship both). */
function dropNulls(obj: Obj, fields: string[]): void {
  for (const f of fields) {
    const map = obj[f];
    if (map === null) delete obj[f];
    else if (map && typeof map === 'object' && !Array.isArray(map))
      for (const [k, v] of Object.entries(map)) if (v === null) (map as Record<string, string>)[k] = '';
  }
}

const count = (o: unknown) => Object.keys((o as Record<string, unknown> | undefined) ?? {}).length;

export const configMapStrategy: Strategy = {
  defaults: (obj) => dropNulls(obj, ['data', 'binaryData']),
  validate(obj) {
    const causes = [...validateKeys(obj.data, 'data'), ...validateKeys(obj.binaryData, 'binaryData')];
    if (dataBytes(obj.data, textBytes) + dataBytes(obj.binaryData, base64Bytes) > MAX_DATA_BYTES) causes.push(fieldErrors.tooLong('[]', MAX_DATA_BYTES));
    return causes;
  },
  validateUpdate: (obj, old) => [...(configMapStrategy.validate?.(obj) ?? []), ...validateImmutable(obj, old)],
  columns: [NAME_COLUMN, column('Data', 'Number of data items'), AGE_COLUMN],
  cells: (obj) => [obj.metadata.name, count(obj.data) + count(obj.binaryData), age(obj.metadata.creationTimestamp)],
};

/** stringData is write-only: it is folded into data (base64) on every write. */
function foldStringData(obj: Obj): void {
  dropNulls(obj, ['data', 'stringData']);
  const stringData = obj.stringData as Record<string, string> | undefined;
  if (stringData && typeof stringData === 'object') {
    const data = (obj.data ??= {}) as Record<string, string>;
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString('base64');
  }
  delete obj.stringData;
}

export const secretStrategy: Strategy = {
  defaults(obj) {
    obj.type ??= 'Opaque';
    foldStringData(obj);
  },
  validate(obj) {
    const causes = validateKeys(obj.data, 'data');
    for (const [k, v] of Object.entries((obj.data as Record<string, unknown> | undefined) ?? {})) {
      if (typeof v === 'string' && !BASE64.test(v)) causes.push(fieldErrors.invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
    }
    if (dataBytes(obj.data, base64Bytes) > MAX_DATA_BYTES) causes.push(fieldErrors.tooLong('data', MAX_DATA_BYTES));
    // a service account token Secret names its account
    const account = 'kubernetes.io/service-account.name';
    if (obj.type === 'kubernetes.io/service-account-token' && !obj.metadata.annotations?.[account])
      causes.push(fieldErrors.required(`metadata.annotations[${account}]`));
    return causes;
  },
  validateUpdate: (obj, old) => [...(secretStrategy.validate?.(obj) ?? []), ...immutable(obj.type, old.type, 'type'), ...validateImmutable(obj, old)],
  selectableFields: ['type'],
  columns: [NAME_COLUMN, column('Type', 'The type of the secret'), column('Data', 'Number of data items'), AGE_COLUMN],
  cells: (obj) => [obj.metadata.name, obj.type ?? 'Opaque', count(obj.data), age(obj.metadata.creationTimestamp)],
};
