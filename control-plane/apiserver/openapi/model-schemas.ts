// OpenAPI v3 component schemas for the served kinds, derived from the model
// classes @kubernetes/client-node generates from the upstream OpenAPI spec:
// each class lists its fields (JSON name, type) in attributeTypeMap, and its
// declaration file carries the descriptions. What the models do not keep
// (patch strategies, list types, defaults) is not served.

import { Worker } from 'node:worker_threads';
import type { ModelDocs } from './model-docs.ts';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface Schema {
  description?: string;
  required?: string[];
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  allOf?: { $ref: string }[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
}

export interface ModelSchemas {
  /** component schemas by name (io.k8s.api.core.v1.Pod) */
  schemas: Record<string, Schema>;
  /** the schema name of each served kind, by `group/version/kind` */
  kinds: Record<string, string>;
}

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

/** A generated model class: what we read of it. */
export interface ModelClass {
  getAttributeTypeMap(): Attribute[];
}

export const REF_PREFIX = '#/components/schemas/';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

export function gvkKey(g: GroupVersionKind): string {
  return `${g.group}/${g.version}/${g.kind}`;
}

// V1Pod, CoreV1Event, V1beta1PodDisruptionBudget, AdmissionregistrationV1ServiceReference
const CLASS_NAME = /^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$/;

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const groupSegment = (group: string) => (group ? (group.split('.')[0] as string) : 'core');

/** The class generated for a served kind: V1Pod, or CoreV1Event where groups share a kind name. */
function classOfKind(models: Record<string, unknown>, gvk: GroupVersionKind): string | undefined {
  const plain = `${capitalize(gvk.version)}${gvk.kind}`;
  const qualified = `${capitalize(groupSegment(gvk.group))}${plain}`;
  return [qualified, plain].find((name) => typeof (models[name] as ModelClass | undefined)?.getAttributeTypeMap === 'function');
}

/** Builds the schemas of the served kinds and of every type they reach. */
export function buildModelSchemas(
  models: Record<string, unknown>,
  served: GroupVersionKind[],
  docsOf: (cls: string) => ModelDocs = () => ({ fields: {} }),
): ModelSchemas {
  const names = new Map<string, string>(); // class → schema name
  const taken = new Set<string>();
  const queue: { cls: string; group: string }[] = [];
  const nameOf = (cls: string, group: string): string => {
    const known = names.get(cls);
    if (known) return known;
    const m = CLASS_NAME.exec(cls);
    const version = m ? (m[2] as string).toLowerCase() : 'v1';
    const short = m ? (m[3] as string) : cls;
    let name = `io.k8s.api.${groupSegment(group)}.${version}.${short}`;
    if (taken.has(name)) name = `io.k8s.api.${groupSegment(group)}.${version}.${cls}`;
    taken.add(name);
    names.set(cls, name);
    queue.push({ cls, group });
    return name;
  };

  const kinds: Record<string, string> = {};
  const gvks = new Map<string, GroupVersionKind[]>();
  for (const gvk of served) {
    const cls = classOfKind(models, gvk);
    if (!cls) continue;
    const name = nameOf(cls, gvk.group);
    kinds[gvkKey(gvk)] = name;
    gvks.set(name, [...(gvks.get(name) ?? []), gvk]);
  }

  const schemas: Record<string, Schema> = { [INT_OR_STRING]: { format: 'int-or-string', 'x-kubernetes-int-or-string': true } };
  const typeSchema = (type: string, format: string, group: string): Schema => {
    const array = /^Array<(.+)>$/.exec(type);
    if (array) return { type: 'array', items: typeSchema(array[1] as string, '', group) };
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) return { type: 'object', additionalProperties: typeSchema(map[1] as string, '', group) };
    switch (type) {
      case 'string':
        return format ? { type: 'string', format } : { type: 'string' };
      case 'Date':
        return { type: 'string', format: 'date-time' };
      case 'boolean':
        return { type: 'boolean' };
      case 'number':
        return format === 'double' ? { type: 'number', format } : { type: 'integer', ...(format ? { format } : {}) };
      case 'IntOrString':
        return { allOf: [{ $ref: REF_PREFIX + INT_OR_STRING }] };
      // any JSON value (a default, an enum member, a raw extension)
      case 'any':
        return { 'x-kubernetes-preserve-unknown-fields': true };
    }
    if (typeof (models[type] as ModelClass | undefined)?.getAttributeTypeMap === 'function') return { allOf: [{ $ref: REF_PREFIX + nameOf(type, group) }] };
    return { 'x-kubernetes-preserve-unknown-fields': true };
  };

  for (let next = queue.shift(); next; next = queue.shift()) {
    const name = names.get(next.cls) as string;
    const attributes = (models[next.cls] as ModelClass).getAttributeTypeMap();
    const docs = docsOf(next.cls);
    const schema: Schema = { ...(docs.description ? { description: docs.description } : {}), type: 'object' };
    const required = attributes.filter((a) => docs.fields[a.name]?.required).map((a) => a.baseName);
    if (required.length) schema.required = required;
    if (attributes.length === 0) schema['x-kubernetes-preserve-unknown-fields'] = true;
    else {
      schema.properties = Object.fromEntries(
        attributes.map((a) => {
          const description = docs.fields[a.name]?.description;
          return [a.baseName, { ...(description ? { description } : {}), ...typeSchema(a.type, a.format, next.group) }];
        }),
      );
    }
    const gvk = gvks.get(name);
    if (gvk) schema['x-kubernetes-group-version-kind'] = gvk;
    schemas[name] = schema;
  }
  return { schemas, kinds };
}

/** Every schema `root` needs, itself included. */
export function schemaClosure(all: Record<string, Schema>, roots: string[]): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const visit = (name: string) => {
    if (out[name] || !all[name]) return;
    out[name] = all[name];
    JSON.stringify(all[name], (key, value) => {
      if (key === '$ref' && typeof value === 'string') visit(value.slice(REF_PREFIX.length));
      return value;
    });
  };
  roots.forEach(visit);
  return out;
}

/** Builds the schemas in a worker thread, keeping the model classes out of this process's heap. */
export function loadModelSchemas(served: GroupVersionKind[]): Promise<ModelSchemas> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./model-schemas.worker.ts', import.meta.url), { workerData: served, execArgv: [] });
    worker.once('message', (m: ModelSchemas) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the model schema worker exited with code ${code}`)));
  });
}
