import { ApiError, errors, qualifiedResource } from '../../apimachinery/index.ts';
import type { UserInfo } from '../auth/index.ts';
import { admitCsrCreate, admitCsrUpdate } from './csr-admission.ts';
import { admitNodeRestriction } from './node-restriction.ts';
import { admitPriority } from './priority-admission.ts';
import { admitQuota } from './quota-admission.ts';
import type { Registry } from './registry.ts';
import type { Obj } from './resource-info.ts';
import { stampRequester } from './resources/certificates.ts';
import { registryKey, type RestContext } from './rest-context.ts';
import { admitServiceAccount } from './service-account-admission.ts';
import { admitClaimResize, admitStorageCreate } from './storage-admission.ts';

/** Who writes what, where: what every admission plugin is handed. */
export interface AdmissionRequest {
  ctx: RestContext;
  reg: Registry;
  user: UserInfo;
  namespace: string | undefined;
}

/** One resource's admission plugins, besides those every write passes. */
interface ResourceAdmission {
  create?(a: AdmissionRequest, obj: Obj): Promise<void> | void;
  /** an update of the main resource or of a subresource; `old` is the stored object */
  update?(a: AdmissionRequest, w: { subresource: string | undefined; obj: Obj; old: Obj }): Promise<void> | void;
}

const registry = (a: AdmissionRequest, group: string, resource: string) => a.ctx.registries.get(registryKey(group, resource)) as Registry;

/** The resources with plugins of their own (kube-apiserver's ServiceAccount, Priority, CertificateApproval …), by group/resource. */
const BY_RESOURCE: Record<string, ResourceAdmission> = {
  '/pods': {
    async create(a, obj) {
      await admitServiceAccount(registry(a, '', 'serviceaccounts'), a.namespace as string, obj);
      await admitPriority(registry(a, 'scheduling.k8s.io', 'priorityclasses'), obj);
    },
  },
  '/persistentvolumeclaims': {
    async update(a, w) {
      if (!w.subresource) await admitClaimResize(w.obj, w.old, registry(a, 'storage.k8s.io', 'storageclasses'));
    },
  },
  'certificates.k8s.io/certificatesigningrequests': {
    async create(a, obj) {
      stampRequester(obj, a.user);
      await admitCsrCreate(obj);
    },
    update: (a, w) => admitCsrUpdate({ user: a.user, authorizer: a.ctx.auth.authorizer, ...w }),
  },
};

const pluginsOf = (reg: Registry) => BY_RESOURCE[`${reg.info.group}/${reg.info.resource}`];

/** Namespaced writes need their namespace to exist and not be going (NamespaceLifecycle). */
async function requireNamespace(a: AdmissionRequest, namespace: string): Promise<void> {
  let ns: Obj;
  try {
    ns = await registry(a, '', 'namespaces').get(undefined, namespace);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) throw errors.notFound('namespaces', '', namespace);
    throw err;
  }
  if (ns.metadata.deletionTimestamp) throw new ApiError('Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`);
}

/** The admission plugins a new object passes: NamespaceLifecycle, the resource's own, NodeRestriction, storage defaults, ResourceQuota. */
export async function admitCreate(a: AdmissionRequest, obj: Obj): Promise<void> {
  if (a.namespace) await requireNamespace(a, a.namespace);
  await pluginsOf(a.reg)?.create?.(a, obj);
  admitNodeRestriction({ user: a.user, operation: 'create', resource: qualifiedResource(a.reg.info.resource, a.reg.info.group), obj });
  if (a.reg.info.group === '') await admitStorageCreate(a.reg.info.resource, obj, registry(a, 'storage.k8s.io', 'storageclasses'));
  if (a.namespace) {
    await admitQuota(registry(a, '', 'resourcequotas'), (i) => registry(a, i.group, i.resource), a.reg.info, a.namespace, obj);
  }
}

/** Whether updates of this resource have plugins that read the stored object. */
export function updateIsAdmitted(reg: Registry): boolean {
  return pluginsOf(reg)?.update !== undefined;
}

/** The resource's own plugins for an update (NodeRestriction runs beside, as it reads the stored object only for nodes). */
export async function admitUpdate(a: AdmissionRequest, w: { subresource: string | undefined; obj: Obj; old: Obj }): Promise<void> {
  await pluginsOf(a.reg)?.update?.(a, w);
}
