import { ApiError, errors, qualifiedResource } from '../../apimachinery/index.ts';
import type { LimitRange, PersistentVolumeClaim, Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { admitClaimLimits, admitPodLimits } from './limit-ranger.ts';
import type { UserInfo } from '../auth/index.ts';
import { admitPod, checkPodTemplate } from './pod-security/index.ts';
import { equivalentsOf, type EquivalentResource, type Operation, type WebhookAttributes, type WriteKind } from './admission-webhooks/index.ts';
import { admitCsrApproval, admitCsrCreate, admitCsrSigning } from './csr-admission.ts';
import { admitNodeRestriction, restrictsWrite } from './node-restriction.ts';
import { admitPriority } from './priority-admission.ts';
import { admitRuntimeClass, validateRuntimeClass } from './runtime-class-admission.ts';
import { admitQuota } from './quota-admission.ts';
import type { Registry } from './registry.ts';
import type { Obj } from './resource-info.ts';
import { stampRequester } from './resources/certificates.ts';
import { registryKey, type RestContext } from './rest-context.ts';
import { admitServiceAccount } from './service-account-admission.ts';
import { admitClaimResize, admitDefaultStorageClass, protectStorageObject } from './storage-admission.ts';

/** Who writes what, where: what every admission plugin is handed. */
export interface AdmissionRequest {
  ctx: RestContext;
  reg: Registry;
  user: UserInfo;
  namespace: string | undefined;
  /** what the plugins have to say to the client (Warning headers) */
  warnings: string[];
  /** a dry run (webhooks with side effects refuse it) */
  dryRun: boolean;
}

/** An update of the main resource or of a subresource; `old` is the stored object. */
interface UpdateWrite {
  subresource: string | undefined;
  obj: Obj;
  old: Obj;
}

/** One admission plugin's part in one kind of write, under kube-apiserver's name for the plugin (its metrics' label). */
interface Plugin<W> {
  name: string;
  admit(a: AdmissionRequest, w: W): Promise<void> | void;
}

/** One resource's admission plugins, besides those every write passes. */
interface ResourceAdmission {
  /** mutating (and mixed) plugins of a create, before the mutating webhooks */
  create?: Plugin<Obj>[];
  /** validating plugins of a create, after the mutating webhooks */
  validateCreate?: Plugin<Obj>[];
  /** plugins of an update */
  update?: Plugin<UpdateWrite>[];
  /** the writes `update` acts on, by subresource (undefined: the main resource); all when not given */
  updates?(subresource: string | undefined): boolean;
}

const registry = (a: AdmissionRequest, group: string, resource: string) => a.ctx.registries.get(registryKey(group, resource)) as Registry;

/** The namespace a request writes to, read once for every plugin that asks (NamespaceLifecycle, PodSecurity, selectors). */
const namespaces = new WeakMap<AdmissionRequest, Promise<Obj>>();
function namespaceOf(a: AdmissionRequest): Promise<Obj> {
  let read = namespaces.get(a);
  if (!read) namespaces.set(a, (read = registry(a, '', 'namespaces').get(undefined, a.namespace as string)));
  return read;
}

/** The namespace's labels, for PodSecurity and the webhooks' and policies' namespace selectors. */
async function namespaceLabels(a: AdmissionRequest): Promise<Record<string, string> | undefined> {
  return (await namespaceOf(a)).metadata.labels;
}

/** The namespace's LimitRanges, for LimitRanger. */
async function limitRanges(a: AdmissionRequest): Promise<LimitRange[]> {
  return (await registry(a, '', 'limitranges').list({ namespace: a.namespace })).items as unknown as LimitRange[];
}

/** PodSecurity on a pod: refused by the enforce level, warned of by the warn level. */
async function admitPodSecurity(a: AdmissionRequest, pod: Obj): Promise<void> {
  const { metadata, spec } = pod as unknown as Pod;
  a.warnings.push(
    ...admitPod({
      config: a.ctx.podSecurity,
      namespaceLabels: await namespaceLabels(a),
      namespace: a.namespace as string,
      user: a.user.name,
      meta: metadata ?? {},
      spec: spec ?? { containers: [] },
      podName: metadata?.name ?? metadata?.generateName,
    }),
  );
}

/** PodSecurity on a workload's pod template: warnings only. */
function podTemplateSecurity(templateOf: (obj: Obj) => PodTemplateSpec | undefined): ResourceAdmission {
  const check = async (a: AdmissionRequest, obj: Obj) => {
    const template = templateOf(obj);
    if (!template) return;
    const r = {
      config: a.ctx.podSecurity,
      namespace: a.namespace as string,
      user: a.user.name,
      meta: template.metadata ?? {},
      spec: template.spec ?? { containers: [] },
    };
    a.warnings.push(...checkPodTemplate({ ...r, namespaceLabels: await namespaceLabels(a) }));
  };
  return {
    create: [{ name: 'PodSecurity', admit: check }],
    update: [{ name: 'PodSecurity', admit: (a, w) => check(a, w.obj) }],
    updates: (sub) => sub === undefined,
  };
}
const specTemplate = (obj: Obj) => (obj.spec as { template?: PodTemplateSpec } | undefined)?.template;

/** The resources with plugins of their own (kube-apiserver's ServiceAccount, Priority, PodSecurity, CertificateApproval …), by group/resource. */
const BY_RESOURCE: Record<string, ResourceAdmission> = {
  '/pods': {
    create: [
      { name: 'ServiceAccount', admit: (a, obj) => admitServiceAccount(registry(a, '', 'serviceaccounts'), a.namespace as string, obj) },
      { name: 'Priority', admit: (a, obj) => admitPriority(registry(a, 'scheduling.k8s.io', 'priorityclasses'), obj) },
      { name: 'LimitRanger', admit: async (a, obj) => admitPodLimits(obj as unknown as Pod, await limitRanges(a)) },
      { name: 'RuntimeClass', admit: (a, obj) => admitRuntimeClass(registry(a, 'node.k8s.io', 'runtimeclasses'), obj) },
    ],
    validateCreate: [
      { name: 'RuntimeClass', admit: (a, obj) => validateRuntimeClass(registry(a, 'node.k8s.io', 'runtimeclasses'), obj) },
      { name: 'PodSecurity', admit: admitPodSecurity },
    ],
    // a debug container is checked as the pod it joins
    update: [{ name: 'PodSecurity', admit: (a, w) => admitPodSecurity(a, w.obj) }],
    updates: (sub) => sub === 'ephemeralcontainers',
  },
  '/podtemplates': podTemplateSecurity((obj) => obj.template as PodTemplateSpec | undefined),
  '/replicationcontrollers': podTemplateSecurity(specTemplate),
  'apps/deployments': podTemplateSecurity(specTemplate),
  'apps/replicasets': podTemplateSecurity(specTemplate),
  'apps/statefulsets': podTemplateSecurity(specTemplate),
  'apps/daemonsets': podTemplateSecurity(specTemplate),
  'batch/jobs': podTemplateSecurity(specTemplate),
  'batch/cronjobs': podTemplateSecurity(
    (obj) => (obj.spec as { jobTemplate?: { spec?: { template?: PodTemplateSpec } } } | undefined)?.jobTemplate?.spec?.template,
  ),
  '/persistentvolumeclaims': {
    create: [
      { name: 'LimitRanger', admit: async (a, obj) => admitClaimLimits(obj as unknown as PersistentVolumeClaim, await limitRanges(a)) },
      { name: 'DefaultStorageClass', admit: (a, obj) => admitDefaultStorageClass(obj, registry(a, 'storage.k8s.io', 'storageclasses')) },
      { name: 'StorageObjectInUseProtection', admit: (_a, obj) => protectStorageObject('persistentvolumeclaims', obj) },
    ],
    update: [{ name: 'PersistentVolumeClaimResize', admit: (a, w) => admitClaimResize(w.obj, w.old, registry(a, 'storage.k8s.io', 'storageclasses')) }],
    updates: (sub) => sub === undefined,
  },
  '/persistentvolumes': {
    create: [{ name: 'StorageObjectInUseProtection', admit: (_a, obj) => protectStorageObject('persistentvolumes', obj) }],
  },
  'certificates.k8s.io/certificatesigningrequests': {
    create: [
      // the requester is stamped on the request before anything judges it
      {
        name: 'CertificateSubjectRestriction',
        async admit(a, obj) {
          stampRequester(obj, a.user);
          await admitCsrCreate(obj);
        },
      },
    ],
    update: [
      { name: 'CertificateApproval', admit: (a, w) => admitCsrApproval({ user: a.user, authorizer: a.ctx.auth.authorizer, ...w }) },
      { name: 'CertificateSigning', admit: (a, w) => admitCsrSigning({ user: a.user, authorizer: a.ctx.auth.authorizer, ...w }) },
    ],
  },
};

const pluginsOf = (reg: Registry) => BY_RESOURCE[`${reg.info.group}/${reg.info.resource}`];

/** Namespaced writes need their namespace to exist and not be going (NamespaceLifecycle). */
async function requireNamespace(a: AdmissionRequest): Promise<void> {
  const namespace = a.namespace as string;
  let ns: Obj;
  try {
    ns = await namespaceOf(a);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) throw errors.notFound('namespaces', '', namespace);
    throw err;
  }
  if (ns.metadata.deletionTimestamp) throw new ApiError('Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`);
}

/** The other served versions of each resource (the registries change only as a whole, when a definition does). */
const equivalentsCache = new WeakMap<Registry, Map<string, EquivalentResource[]>>();
function equivalents(a: AdmissionRequest, subresource: string): EquivalentResource[] {
  let bySubresource = equivalentsCache.get(a.reg);
  if (!bySubresource) equivalentsCache.set(a.reg, (bySubresource = new Map()));
  let found = bySubresource.get(subresource);
  if (!found) {
    const served = new Set([...a.ctx.registries.values()].map((r) => r.info));
    bySubresource.set(subresource, (found = equivalentsOf(a.reg.info, served, subresource)));
  }
  return found;
}

/** The kind of write a webhook's or policy's rules are matched against. */
const webhookRequest = (a: AdmissionRequest, operation: Operation, subresource: string | undefined): WriteKind & { operation: Operation } => ({
  operation,
  group: a.reg.info.group,
  version: a.reg.info.version,
  resource: a.reg.info.resource,
  subresource: subresource ?? '',
  namespaced: a.reg.info.namespaced,
  equivalents: () => equivalents(a, subresource ?? ''),
});

/** Whether any admission policy or webhook may take a write of this kind (else nothing is read for them). */
const policiesOrWebhooksTake = (a: AdmissionRequest, operation: Operation, subresource: string | undefined) =>
  a.ctx.policies.active ||
  // mutating policies never take a delete
  (operation !== 'DELETE' && a.ctx.mutatingPolicies.active) ||
  a.ctx.webhooks.interested(webhookRequest(a, operation, subresource));

/** What the webhooks are told of a write. */
function webhookAttributes(a: AdmissionRequest, w: { operation: Operation; subresource?: string; name: string; obj?: Obj; old?: Obj }): WebhookAttributes {
  return {
    ...webhookRequest(a, w.operation, w.subresource),
    kind: a.reg.info.kind,
    name: w.name,
    namespace: a.namespace ?? '',
    object: w.obj,
    oldObject: w.old,
    user: a.user,
    dryRun: a.dryRun,
    namespaceLabels: () => namespaceLabels(a),
  };
}

type Step = { type: 'admit' | 'validate'; operation: Operation };

/** Runs `run`, telling `report` how long it took and whether it refused. */
async function timed(run: () => Promise<void> | void, report: (rejected: boolean, seconds: number) => void): Promise<void> {
  const started = performance.now();
  let rejected = false;
  try {
    await run();
  } catch (err) {
    rejected = true;
    throw err;
  } finally {
    report(rejected, (performance.now() - started) / 1000);
  }
}

/** Runs one step of the chain (the mutating plugins, or the validating ones), timed for apiserver_admission_step_admission_duration_seconds. */
function step(a: AdmissionRequest, s: Step, run: () => Promise<void>): Promise<void> {
  return timed(run, (rejected, seconds) => a.ctx.admissionStep?.({ ...s, rejected, seconds }));
}

/** Runs one plugin in a step, timed for apiserver_admission_controller_admission_duration_seconds. */
function plugin(a: AdmissionRequest, s: Step, name: string, run: () => Promise<void> | void): Promise<void> {
  return timed(run, (rejected, seconds) => a.ctx.admissionPlugin?.({ ...s, name, rejected, seconds }));
}

/** Runs a resource's plugins of a step in turn. */
async function plugins<W>(a: AdmissionRequest, s: Step, list: Plugin<W>[] | undefined, w: W): Promise<void> {
  for (const p of list ?? []) await plugin(a, s, p.name, () => p.admit(a, w));
}

/**
 * The mutating admission policies, then the mutating webhooks, on an object
 * about to be written: what they change lands on `obj` itself. A policy of
 * reinvocationPolicy IfNeeded runs once more when a webhook changed the object
 * after it.
 */
async function mutateByPoliciesAndWebhooks(a: AdmissionRequest, attributes: WebhookAttributes, obj: Obj): Promise<void> {
  const policies = a.ctx.mutatingPolicies.active;
  const webhooks = a.ctx.webhooks.interested(attributes);
  // nothing to do (and no defaulting ahead of the registry's) where neither takes this write
  if (!policies && !webhooks) return;
  const s: Step = { type: 'admit', operation: attributes.operation };
  // policies and webhooks see the object as it will be stored, its defaults filled in
  a.reg.info.strategy?.defaults?.(obj);
  let object = obj;
  const byPolicies = (reinvocation: boolean) =>
    plugin(a, s, 'MutatingAdmissionPolicy', async () => {
      object = (await a.ctx.mutatingPolicies.mutate({ ...attributes, object }, reinvocation)) ?? object;
    });
  if (policies) await byPolicies(false);
  if (webhooks) {
    let changed = false;
    await plugin(a, s, 'MutatingAdmissionWebhook', async () => {
      const mutated = await a.ctx.webhooks.mutate({ ...attributes, object });
      a.warnings.push(...mutated.warnings);
      object = mutated.object ?? object;
      changed = mutated.changed;
    });
    if (policies && changed) await byPolicies(true);
  }
  if (object !== obj) {
    for (const k of Object.keys(obj)) delete obj[k];
    Object.assign(obj, object);
  }
}

/** The validating admission policies, then the validating webhooks, each adding what it warns of. */
async function validateByPoliciesAndWebhooks(a: AdmissionRequest, attributes: WebhookAttributes): Promise<void> {
  const s: Step = { type: 'validate', operation: attributes.operation };
  if (a.ctx.policies.active) {
    await plugin(a, s, 'ValidatingAdmissionPolicy', async () => {
      a.warnings.push(...(await a.ctx.policies.validate(attributes)));
    });
  }
  if (a.ctx.webhooks.interested(attributes)) {
    await plugin(a, s, 'ValidatingAdmissionWebhook', async () => {
      a.warnings.push(...(await a.ctx.webhooks.validate(attributes)));
    });
  }
}

/**
 * The admission chain of a new object, in kube-apiserver's order: NamespaceLifecycle; the
 * resource's mutating plugins (storage defaults among them); the mutating webhooks; the
 * resource's validating plugins, NodeRestriction, the admission policies and validating
 * webhooks; ResourceQuota last. Each plugin is timed where it has something to do.
 */
export async function admitCreate(a: AdmissionRequest, obj: Obj): Promise<void> {
  const own = pluginsOf(a.reg);
  const attributes = () => webhookAttributes(a, { operation: 'CREATE', name: obj.metadata?.name ?? '', obj });
  const admit: Step = { type: 'admit', operation: 'CREATE' };
  await step(a, admit, async () => {
    if (a.namespace) await plugin(a, admit, 'NamespaceLifecycle', () => requireNamespace(a));
    await plugins(a, admit, own?.create, obj);
    await mutateByPoliciesAndWebhooks(a, attributes(), obj);
  });
  const validate: Step = { type: 'validate', operation: 'CREATE' };
  await step(a, validate, async () => {
    await plugins(a, validate, own?.validateCreate, obj);
    const resource = qualifiedResource(a.reg.info.resource, a.reg.info.group);
    if (restrictsWrite(a.user, resource))
      await plugin(a, validate, 'NodeRestriction', () => admitNodeRestriction({ user: a.user, operation: 'create', resource, obj }));
    await validateByPoliciesAndWebhooks(a, attributes());
    const namespace = a.namespace;
    if (namespace) {
      await plugin(a, validate, 'ResourceQuota', () =>
        admitQuota(registry(a, '', 'resourcequotas'), (i) => registry(a, i.group, i.resource), a.reg.info, namespace, obj),
      );
    }
  });
}

/** The resource's update plugins, where they act on this write (the main resource or `subresource`). */
function updatePlugins(a: AdmissionRequest, subresource: string | undefined): Plugin<UpdateWrite>[] | undefined {
  const own = pluginsOf(a.reg);
  return own?.update !== undefined && (own.updates?.(subresource) ?? true) ? own.update : undefined;
}

/** Whether an update of this resource (or this subresource of it) has plugins or webhooks, which read the stored object. */
export function updateIsAdmitted(a: AdmissionRequest, subresource: string | undefined): boolean {
  return updatePlugins(a, subresource) !== undefined || policiesOrWebhooksTake(a, 'UPDATE', subresource);
}

/** An update's admission: the resource's own plugins, then the mutating and the validating webhooks (NodeRestriction runs beside). */
export async function admitUpdate(a: AdmissionRequest, w: UpdateWrite): Promise<void> {
  const webhooks = policiesOrWebhooksTake(a, 'UPDATE', w.subresource);
  const attributes = () => webhookAttributes(a, { operation: 'UPDATE', subresource: w.subresource, name: w.old.metadata.name ?? '', obj: w.obj, old: w.old });
  const admit: Step = { type: 'admit', operation: 'UPDATE' };
  await step(a, admit, async () => {
    await plugins(a, admit, updatePlugins(a, w.subresource), w);
    if (webhooks) await mutateByPoliciesAndWebhooks(a, attributes(), w.obj);
  });
  if (webhooks) await step(a, { type: 'validate', operation: 'UPDATE' }, () => validateByPoliciesAndWebhooks(a, attributes()));
}

/** Whether a delete of this resource goes to webhooks (which are then shown the object going). */
export function deleteIsAdmitted(a: AdmissionRequest): boolean {
  return policiesOrWebhooksTake(a, 'DELETE', undefined);
}

/** A delete's admission: the validating webhooks, shown the object as it is (mutating ones have nothing to change). */
export async function admitDelete(a: AdmissionRequest, old: Obj): Promise<void> {
  await step(a, { type: 'validate', operation: 'DELETE' }, () =>
    validateByPoliciesAndWebhooks(a, webhookAttributes(a, { operation: 'DELETE', name: old.metadata.name ?? '', old })),
  );
}
