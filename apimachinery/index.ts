export { createRootLogger, silentLogger } from './logging.ts';
export type { Logger } from './logging.ts';
export { ApiError, StatusReasons, errors, fieldErrors, qualifiedResource } from './status.ts';
export type { Status, StatusCause, StatusDetails, StatusReason } from './status.ts';
export { parseLabelSelector, matchesLabels, formatLabelSelector, fromObjectSelector, selectorString, SelectorParseError } from './labels.ts';
export type { LabelSelector, ObjectLabelSelector, Requirement } from './labels.ts';
export { parseFieldSelector, matchesFields, fieldValue, valueAtPath, FieldSelectorParseError } from './fields.ts';
export type { FieldSelector, FieldRequirement } from './fields.ts';
export { createCA, issueCert, signRequest, describeRequest, createCertificateRequest, certificateValidity, caCertHash } from './pki.ts';
export type { KeyPair, CertRequest, RequestedNames } from './pki.ts';
export { loadKubeconfig, writeKubeconfig, renderKubeconfig } from './kubeconfig.ts';
export type { ClientConfig } from './kubeconfig.ts';
export { parseApiVersion, resourcePath } from './resource-path.ts';
export type { ResourceRef } from './resource-path.ts';
export { RestClient } from './rest-client.ts';
export type { PatchType, WatchEvent, Query } from './rest-client.ts';
export { WorkQueue } from './work-queue.ts';
export { WorkQueueMetrics, type QueueObserver } from './work-queue-metrics.ts';
export { Informer, objectKey } from './informer.ts';
export type { InformerHandlers, KubeObject, ObjectMeta } from './informer.ts';
export { parseQuantity, milliCpu, isQuantity, formatQuantity } from './quantity.ts';
export { qosClass, containersTotal, podRequest, isPodTerminal, resourceFieldValue } from './pod-resources.ts';
export type { QOSClass } from './pod-resources.ts';
export type * as k8s from './types.ts';
export { EventRecorder } from './events.ts';
export { rfc3339, microTime, sleep, waitAtMost, waitForWake } from './time.ts';
export { hostIPv4 } from './host-address.ts';
export { tolerates } from './taints.ts';
export { parseDuration } from './duration.ts';
export { LeaderElector, DEFAULT_LEADER_ELECTION, leaderStatusMetric, leaseLive } from './leader-election.ts';
export type { LeaderElectionOptions } from './leader-election.ts';
export { nodeMatchesPod, termMatches } from './node-selector.ts';
export { ipv4ToInt, intToIpv4 } from './ipv4.ts';
export { mountAt, mountTable, mountsUnder, parseMountInfo } from './mounts.ts';
export type { MountEntry } from './mounts.ts';
export { unaryCall } from './grpc-unary.ts';
export { processRegistry, serveRegistry } from './metrics-registry.ts';
export { serveExposition } from './metrics-exposition.ts';
export { tunnelUpgrade, refuseUpgrade } from './upgrade-tunnel.ts';
export { replaceFile } from './replace-file.ts';
export { KeyedLock } from './keyed-lock.ts';
export { registryHost } from './image-reference.ts';
export { writeIfOpen, drained, onResponseEnd } from './response-stream.ts';
export { namedContainerPort, podContainers } from './pod-containers.ts';
export { podReferences } from './pod-references.ts';
export type { PodReferences } from './pod-references.ts';
export { defineController, primary, reads, requeueAfter, watch } from './controller-runtime.ts';
export type { ControllerDefinition, ReconcileAction, RunnableController, WatchSpec } from './controller-runtime.ts';
export { backoffDelay } from './backoff.ts';
export type { Backoff } from './backoff.ts';
export { transitionTime } from './conditions.ts';
export {
  ENDPOINTSLICE_MANAGED_BY_LABEL,
  ENDPOINTSLICE_SKIP_MIRROR_LABEL,
  HOSTNAME_LABEL,
  MEMORY_PRESSURE_TAINT,
  MIRROR_POD_ANNOTATION,
  PROVISIONED_BY_ANNOTATION,
  SELECTED_NODE_ANNOTATION,
  SERVICE_NAME_LABEL,
  STORAGE_PROVISIONER_ANNOTATION,
} from './well-known.ts';
export { IndexAllocator } from './index-allocator.ts';
export { certificateUser } from './certificate-user.ts';
export type { CertificateUser } from './certificate-user.ts';
export {
  BOOTSTRAP_TOKEN,
  CONTROL_PLANE_CERTS_SECRET,
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_TYPE,
  BOOTSTRAPPERS,
  DEFAULT_NODE_TOKEN_GROUP,
  TOKEN_USAGES,
  bootstrapTokenSecret,
  isExpired,
  newBootstrapToken,
  readBootstrapToken,
  secretName,
  tokenRefusal,
  tokenText,
} from './bootstrap-token.ts';
export type { BootstrapToken } from './bootstrap-token.ts';
export {
  CLUSTER_INFO,
  JWS_KEY_PREFIX,
  KUBECONFIG_KEY,
  clusterInfoKubeconfig,
  discoverCluster,
  readClusterInfoKubeconfig,
  signKubeconfig,
  verifyKubeconfig,
} from './cluster-info.ts';
export { notifyReady } from './systemd-notify.ts';
export { acceptWebSocket, isWebSocketRequest } from './websocket.ts';
export { pathExists } from './path-exists.ts';
export { unescapePathSegment } from './path-segment.ts';
export { addNetns, ensureNetnsMountPoint, nsenterNetArgs, NETNS_DIR } from './netns.ts';
export { queryBool, queryInt } from './query-params.ts';
