// Label, annotation and taint keys Kubernetes gives a meaning, in one place
// for the agent and the control plane alike.

/** A mirror pod's annotation: the uid of the static pod it shows. */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** A node's hostname label (topology key of host-level spreading). */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** The Service an EndpointSlice belongs to. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Who manages an EndpointSlice. */
export const ENDPOINTSLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** On an Endpoints: its EndpointSlices are made by whoever wrote it, not mirrored. */
export const ENDPOINTSLICE_SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
/** The NoSchedule taint of a node under memory pressure. */
export const MEMORY_PRESSURE_TAINT = 'node.kubernetes.io/memory-pressure';
/** Volume provisioning: the node a WaitForFirstConsumer claim's pod landed on, the provisioner asked, and the one that made a volume. */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
export const STORAGE_PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner';
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
