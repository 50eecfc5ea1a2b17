import { ApiError, rfc3339, type Logger } from '../../../apimachinery/index.ts';
import type { Storage } from '../../storage/index.ts';
import { gvkKey, type ModelSchemas, type Schema } from '../openapi/model-schemas.ts';
import { Registry } from '../registry.ts';
import { apiVersionOf, type Obj, type ResourceInfo, type StorageMapping } from '../resource-info.ts';
import { CRD_CLEANUP_FINALIZER, crdSpec, servedVersions, storageVersion, type CrdSpec, type CrdVersion } from '../resources/custom-resource-definitions.ts';
import { customResourceScale, customResourceStrategy } from './strategy.ts';
import { listAndWatch } from '../list-watch.ts';
import { applyDefaults } from './defaulting.ts';
import { clusterIpResolver, type ServiceResolver } from '../webhook-client.ts';
import { ConversionWebhook } from './conversion-webhook.ts';
import { ConvertingStorage } from './converting-storage.ts';
import type { JsonSchema } from './validation.ts';

// Serves the resources CustomResourceDefinitions define: each established
// definition adds a registry, discovery entries and a schema; a definition
// being deleted has its objects deleted and stays served (Terminating, no
// creates) until the last one is gone, finalizers and all; then its own
// finalizer goes. Every server watches the definitions, so servers sharing
// one etcd serve the same ones.

export interface CustomResourceHost {
  storage: Storage;
  registries: Map<string, Registry>;
  /** the served resources discovery reads; custom ones are added and removed here */
  resources: ResourceInfo[];
  schemas: ModelSchemas;
  registryKey(group: string, resource: string): string;
  servedVersionKey(group: string, version: string, resource: string): string;
  /** discovery or OpenAPI documents built from `resources` are stale */
  changed(): void;
  log: Logger;
}

interface Served {
  /** what the served form was built from; a status-only change leaves it */
  spec: string;
  /** the storage version's registry (served or not), through which objects are cleaned up */
  registry: Registry;
  versions: { info: ResourceInfo; registry: Registry }[];
}

/** Every registry of a served definition once (the storage version's is also a served version's when it is served). */
const registriesOf = (served: Served) => new Set([served.registry, ...served.versions.map((v) => v.registry)]);

const reverseGroup = (group: string) => group.split('.').reverse().join('.');

/** How the server serves one version of a definition's resource. */
function versionInfo(s: CrdSpec, version: CrdVersion, terminating: () => boolean): ResourceInfo {
  return {
    group: s.group,
    version: version.name,
    resource: s.names.plural,
    kind: s.names.kind,
    singular: s.names.singular || s.names.kind.toLowerCase(),
    namespaced: s.scope === 'Namespaced',
    shortNames: s.names.shortNames,
    categories: s.names.categories,
    subresources: [...(version.subresources?.status ? ['status'] : []), ...(version.subresources?.scale ? ['scale'] : [])],
    unstructured: true,
    strategy: customResourceStrategy(version, terminating),
    scale: customResourceScale(version),
  };
}

/**
 * A version's objects are the stored ones with their apiVersion changed (or,
 * with a conversion webhook, as the webhook converted them on their way out
 * of storage) and its schema's defaults filled in, so a default added to a
 * definition shows on objects stored before it (as Kubernetes defaults on read).
 */
function presentedAs(version: CrdVersion, stored: ResourceInfo, webhook?: ConversionWebhook): StorageMapping {
  const converted = webhook !== undefined;
  const storedApiVersion = apiVersionOf(stored);
  const apiVersion = `${stored.group}/${version.name}`;
  const schema = version.schema?.openAPIV3Schema as JsonSchema | undefined;
  return {
    group: stored.group,
    resource: stored.resource,
    toStorage: (obj) => (converted ? obj : { ...obj, apiVersion: storedApiVersion }),
    fromStorage: (obj) => {
      const presented = converted ? obj : { ...obj, apiVersion };
      if (schema) applyDefaults(schema, presented);
      return presented;
    },
    ...(webhook ? { convert: async (obj: Obj, apiVersion: string) => (await webhook.convert([obj], apiVersion))[0] as Obj } : {}),
  };
}

/** how soon a terminating definition looks again for objects its finalizers still hold */
const CLEANUP_RETRY_MS = 1000;

export class CustomResourceServer {
  readonly #host: CustomResourceHost;
  readonly #crds: Registry;
  readonly #served = new Map<string, Served>();
  #stop: (() => void) | undefined;
  /** definitions handled one at a time, in the order their events came */
  #queue: Promise<void> = Promise.resolve();
  /** names of terminating definitions that look again for their objects soon */
  readonly #retries = new Map<string, NodeJS.Timeout>();
  /** names of definitions being deleted, whose resources take no creates */
  readonly #terminating = new Set<string>();
  readonly #serviceAddress: ServiceResolver;

  constructor(host: CustomResourceHost, crds: Registry) {
    this.#serviceAddress = clusterIpResolver(() => host.registries.get(host.registryKey('', 'services')));
    this.#host = host;
    this.#crds = crds;
  }

  async start(): Promise<void> {
    this.#stop = await listAndWatch(
      this.#crds,
      {},
      {
        list: async (crds) => {
          const names = new Set(crds.map((crd) => crd.metadata.name as string));
          for (const name of this.#served.keys()) if (!names.has(name)) this.#unregister(name);
          for (const crd of crds) await this.#sync(crd);
        },
        event: (e) => {
          this.#enqueue(e.object.metadata.name as string, () =>
            e.type === 'DELETED' ? this.#unregister(e.object.metadata.name as string) : this.#sync(e.object),
          );
        },
      },
    );
  }

  #enqueue(name: string, work: () => void | Promise<void>): void {
    this.#queue = this.#queue.then(work).catch((err: Error) => {
      this.#host.log.warn({ crd: name, err: err.message }, 'could not serve a custom resource definition');
    });
  }

  stop(): void {
    this.#stop?.();
    for (const t of this.#retries.values()) clearTimeout(t);
    for (const s of this.#served.values()) for (const registry of registriesOf(s)) registry.stopCache();
  }

  async #sync(crd: Obj): Promise<void> {
    const name = crd.metadata.name as string;
    if (crd.metadata.deletionTimestamp) return this.#cleanUp(crd);
    const spec = JSON.stringify(crd.spec);
    if (this.#served.get(name)?.spec !== spec) await this.#serve(name, crd, spec);
    await this.#markEstablished(crd);
  }

  async #serve(name: string, crd: Obj, spec: string): Promise<void> {
    const s = crdSpec(crd);
    const stored = storageVersion(s);
    if (!stored) return;
    this.#unregister(name);
    const terminating = () => this.#terminating.has(name);
    const plainInfo = versionInfo(s, stored, terminating);
    const storageInfo = { ...plainInfo, storage: presentedAs(stored, plainInfo) };
    const registry = new Registry(storageInfo, this.#host.storage);
    await registry.startCache();
    const served: Served = { spec, registry, versions: [] };
    const webhook =
      s.conversion?.strategy === 'Webhook' ? new ConversionWebhook(s.conversion.webhook?.clientConfig ?? {}, s.names.kind, this.#serviceAddress) : undefined;
    // every served version presents the same stored objects: with conversion None only apiVersion
    // differs; with a webhook every version, the storage one too, reads and writes them through it,
    // as objects stored before the storage version changed are still in the version they were written in
    for (const version of servedVersions(s)) {
      const plain = version.name === stored.name && !webhook;
      const info = plain ? storageInfo : { ...versionInfo(s, version, terminating), storage: presentedAs(version, plainInfo, webhook) };
      const versionStorage = webhook
        ? new ConvertingStorage(this.#host.storage, webhook, { served: apiVersionOf(info), stored: apiVersionOf(plainInfo) })
        : this.#host.storage;
      const versionRegistry = plain ? registry : new Registry(info, versionStorage);
      // a version read through a webhook is read on demand: a cache would need the webhook up before the definition is served
      if (!plain && !webhook) await versionRegistry.startCache();
      this.#host.registries.set(this.#host.servedVersionKey(info.group, info.version, info.resource), versionRegistry);
      this.#host.resources.push(info);
      this.#registerSchema(info, version.schema?.openAPIV3Schema as Schema | undefined);
      served.versions.push({ info, registry: versionRegistry });
    }
    this.#host.registries.set(this.#host.registryKey(storageInfo.group, storageInfo.resource), registry);
    this.#served.set(name, served);
    this.#host.changed();
    this.#host.log.info(
      { crd: name, storageVersion: stored.name, served: served.versions.map((v) => v.info.version), conversion: s.conversion?.strategy ?? 'None' },
      'serving custom resource',
    );
  }

  /** The version's schema where explain and field validation find it, with the fields every object has. */
  #registerSchema(info: ResourceInfo, openAPIV3Schema: Schema | undefined): void {
    const schemas = this.#host.schemas;
    const objectMeta = schemas.schemas[schemas.kinds['/v1/ConfigMap'] as string]?.properties?.metadata;
    const name = `${reverseGroup(info.group)}.${info.version}.${info.kind}`;
    const root = openAPIV3Schema ?? { 'x-kubernetes-preserve-unknown-fields': true };
    schemas.schemas[name] = {
      ...root,
      type: 'object',
      ...(root.properties || !root['x-kubernetes-preserve-unknown-fields']
        ? { properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, ...(objectMeta ? { metadata: objectMeta } : {}), ...root.properties } }
        : {}),
      'x-kubernetes-group-version-kind': [{ group: info.group, version: info.version, kind: info.kind }],
    };
    schemas.kinds[gvkKey(info)] = name;
  }

  #unregister(name: string): void {
    const served = this.#served.get(name);
    if (!served) return;
    for (const registry of registriesOf(served)) registry.stopCache();
    this.#host.registries.delete(this.#host.registryKey(served.registry.info.group, served.registry.info.resource));
    for (const { info } of served.versions) {
      this.#host.registries.delete(this.#host.servedVersionKey(info.group, info.version, info.resource));
      const at = this.#host.resources.indexOf(info);
      if (at >= 0) this.#host.resources.splice(at, 1);
      delete this.#host.schemas.kinds[gvkKey(info)];
    }
    this.#served.delete(name);
    this.#terminating.delete(name);
    this.#host.changed();
  }

  async #markEstablished(crd: Obj): Promise<void> {
    const s = crdSpec(crd);
    const status = (crd.status ?? {}) as { conditions?: { type: string; status: string }[] };
    const established = (status.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
    if (established && JSON.stringify((crd.status as { acceptedNames?: unknown }).acceptedNames) === JSON.stringify(s.names)) return;
    const now = rfc3339();
    const condition = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: now, reason, message });
    await this.#crds.guaranteedUpdate(
      undefined,
      crd.metadata.name as string,
      (current) => {
        current.status = {
          ...current.status,
          acceptedNames: crdSpec(current).names,
          storedVersions: [
            ...new Set([...((current.status as { storedVersions?: string[] })?.storedVersions ?? []), storageVersion(crdSpec(current))?.name].filter(Boolean)),
          ],
          conditions: [
            condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
            condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
          ],
        };
        return current;
      },
      { subresource: 'status' },
    );
  }

  /** A definition being deleted: its objects go first, then the definition (its finalizer removed). */
  async #cleanUp(crd: Obj): Promise<void> {
    const name = crd.metadata.name as string;
    if (!(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return;
    const registry = this.#served.get(name)?.registry;
    if (registry) {
      this.#terminating.add(name);
      for (const obj of [...(await registry.list({})).items]) {
        if (obj.metadata.deletionTimestamp) continue;
        await registry.delete(obj.metadata.namespace, obj.metadata.name as string, { gracePeriodSeconds: 0 }).catch((err: unknown) => {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        });
      }
      // objects whose finalizers are still to run keep the resource served, so their controllers can finish
      const left = (await registry.list({ limit: 1 })).items.length;
      if (left > 0) {
        await this.#markTerminating(crd);
        this.#retryCleanUp(name);
        return;
      }
    }
    this.#unregister(name);
    await this.#crds
      .guaranteedUpdate(undefined, name, (current) => {
        current.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
        return current;
      })
      .catch((err: unknown) => {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      });
  }

  async #markTerminating(crd: Obj): Promise<void> {
    const conditions = (crd.status as { conditions?: { type: string }[] } | undefined)?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Terminating')) return;
    await this.#crds.guaranteedUpdate(
      undefined,
      crd.metadata.name as string,
      (current) => {
        const status = (current.status ?? {}) as { conditions?: object[] };
        status.conditions = [
          ...(status.conditions ?? []),
          {
            type: 'Terminating',
            status: 'True',
            lastTransitionTime: rfc3339(),
            reason: 'InstanceDeletionInProgress',
            message: 'CustomResource deletion is in progress',
          },
        ];
        current.status = status;
        return current;
      },
      { subresource: 'status' },
    );
  }

  #retryCleanUp(name: string): void {
    if (this.#retries.has(name)) return;
    this.#retries.set(
      name,
      setTimeout(() => {
        this.#retries.delete(name);
        this.#enqueue(name, async () => {
          // deleted meanwhile: its API goes
          const crd = await this.#crds.get(undefined, name).catch(() => undefined);
          if (crd) await this.#sync(crd);
        });
      }, CLEANUP_RETRY_MS),
    );
  }
}
