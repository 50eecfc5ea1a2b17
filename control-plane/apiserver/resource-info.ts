import type { StatusCause } from '../../apimachinery/index.ts';

export type { Obj } from '../api/index.ts';
import type { Obj } from '../api/index.ts';

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  priority: number;
}

/** Resource-specific behaviour; everything left out behaves generically. */
export interface Strategy {
  /**
   * The API's defaulting (kube's SetDefaults_*): on every write of the main
   * resource, create, update, patch and apply alike, so a write that leaves a
   * defaulted field out changes nothing (and restarts no pods).
   */
  defaults?(obj: Obj): void;
  /** what only a new object gets (initial status, generated names), on create (and on dry-run create), after defaults */
  prepareForCreate?(obj: Obj): void;
  /**
   * Status fields Kubernetes always writes (int32s and structs without omitempty): present
   * with these zero values from creation on and after every write, as typed clients require.
   */
  requiredStatus?: Readonly<Record<string, unknown>>;
  validate?(obj: Obj): StatusCause[];
  /**
   * Takes what a new, valid object needs from a shared pool (a ClusterIP).
   * `release` gives it back when the write fails or is a dry run.
   */
  reserve?(obj: Obj): { causes: StatusCause[]; release: () => void };
  /** after the object is gone from storage: give back what reserve() took */
  afterDelete?(obj: Obj): void;
  /**
   * On an update, takes what the new object needs that the old one did not
   * hold (a ClusterIP when leaving ExternalName, NodePorts for new ports):
   * `release` gives that back if the write fails or is a dry run, `commit`
   * gives back what only the old object needed once the write is stored.
   */
  reserveUpdate?(obj: Obj, old: Obj): { causes: StatusCause[]; release: () => void; commit: () => void };
  /** on update of the main resource (status is kept from `old` generically when the resource has a status subresource) */
  prepareForUpdate?(obj: Obj, old: Obj): void;
  validateUpdate?(obj: Obj, old: Obj): StatusCause[];
  /** (pods) a write to pods/ephemeralcontainers: what may be added, and that nothing there changes */
  validateEphemeralContainers?(obj: Obj, old: Obj): StatusCause[];
  /** how names are checked, when not as DNS-1123 subdomains */
  nameRule?(name: string): string[];
  /** field selector paths this resource accepts besides metadata.name and metadata.namespace */
  selectableFields?: readonly string[];
  /** finalizers outside metadata (a Namespace's spec.finalizers) that keep a deleted object until they are cleared */
  pendingFinalizers?(obj: Obj): boolean;
  /** changes made when deletion starts on an object that stays for a while (a Namespace turns Terminating) */
  prepareForDelete?(obj: Obj): void;
  /** seconds of graceful deletion for this object, or 0 to delete at once */
  deletionGracePeriod?(obj: Obj, requested: number | undefined): number;
  columns?: readonly TableColumn[];
  cells?(obj: Obj): unknown[];
}

/** Where a scalable resource keeps its replica counts (for the scale subresource). */
export interface ScaleInfo {
  /** dotted paths, as CRDs name them without the leading dot */
  specReplicasPath: string;
  statusReplicasPath: string;
  /** the pod selector in string form, as Scale.status.selector carries it */
  selector(obj: Obj): string | undefined;
}

/**
 * A resource stored under another one's keys in another form (events.k8s.io
 * Events are core Events): the registry converts on every read and write.
 */
export interface StorageMapping {
  group: string;
  resource: string;
  toStorage(obj: Obj): Obj;
  fromStorage(obj: Obj): Obj;
  /** where conversion is a call away (a custom resource's conversion webhook): an object in another version */
  convert?(obj: Obj, apiVersion: string): Promise<Obj>;
}

export interface ResourceInfo {
  group: string;
  version: string;
  /** plural, lower case: the URL segment */
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** subresources served: status, scale, binding, log, eviction, approval */
  subresources?: string[];
  verbs?: string[];
  strategy?: Strategy;
  scale?: ScaleInfo;
  storage?: StorageMapping;
  /** another version of a resource the catalog serves first at its preferred version (same group and resource, stored through `storage`) */
  alternateVersion?: boolean;
  /** nothing stored: a create-only review API answered in its status */
  virtual?: boolean;
  /** objects kept as plain JSON (custom resources): wrong value types are the schema validation's to report (422), not the decoder's (400) */
  unstructured?: boolean;
  /**
   * Set when the garbage collector tracks this resource's dependents, so that
   * orphan and foreground deletion apply to it; the value is the propagation
   * a delete without one gets.
   */
  garbageCollection?: PropagationPolicy;
}

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

/** The finalizer through which the garbage collector carries out each policy (none for Background). */
export const PROPAGATION_FINALIZERS: Record<PropagationPolicy, string | undefined> = {
  Background: undefined,
  Foreground: 'foregroundDeletion',
  Orphan: 'orphan',
};

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(r: Pick<ResourceInfo, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}
