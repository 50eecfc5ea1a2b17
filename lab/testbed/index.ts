// Real clusters for tests and benchmarks: a node of a test's own (containerd, CNI,
// bridge), API servers and agents as processes, multi-node labs, etcd, a systemd,
// booted hosts, raw requests, leak checks.
export { freePort, startTestNode, REGISTRY } from './node.ts';
export type { TestNode } from './node.ts';
export { SKIFF, KUBECTL, kubectlFor, spawnLogged, startTestApiServer } from './api-server.ts';
export type { Kubectl, KubectlResult, TestApiServer } from './api-server.ts';
export { CLUSTER_DNS_IP, applyManifest, echoDeployment, endpointsReady, eventsOf, startTestCluster, waitForJsonPath } from './cluster.ts';
export type { TestCluster, TestClusterOptions } from './cluster.ts';
export { startTestEtcd } from './etcd.ts';
export type { TestEtcd } from './etcd.ts';
export { anonymousGet, rawRequest } from './raw-request.ts';
export type { RawRequest } from './raw-request.ts';
export { startTestSystemd } from './systemd.ts';
export type { TestSystemd, TestSystemdOptions } from './systemd.ts';
export { forwardTcp } from './forward.ts';
export { NO_LEAKS, leaksOn, nodeLeaks } from './leaks.ts';
export type { NodeLeaks, NodePlaces } from './leaks.ts';
export { smallFilesystem } from './small-filesystem.ts';
export type { SmallFilesystem } from './small-filesystem.ts';
export { bootHosts } from './booted-hosts.ts';
export type { BootedHost, BootedHosts } from './booted-hosts.ts';
export { startTestLab } from './lab.ts';
export type { TestLab } from './lab.ts';
